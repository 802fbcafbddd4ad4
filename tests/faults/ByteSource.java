// The sending end of a throughput probe (tests/faults/probes.py): listens on ADDRESS:PORT and
// writes BYTES zero bytes to every connection, then closes it.
// Run as a single-file program: java ByteSource.java ADDRESS PORT BYTES
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

public class ByteSource {
    public static void main(String[] args) throws IOException {
        long total = Long.parseLong(args[2]);
        byte[] chunk = new byte[64 * 1024];
        try (ServerSocket server = new ServerSocket(Integer.parseInt(args[1]), 50, InetAddress.getByName(args[0]))) {
            System.out.println("listening on " + args[0] + ":" + args[1]);
            while (true) {
                try (Socket client = server.accept(); OutputStream out = client.getOutputStream()) {
                    for (long left = total; left > 0; left -= chunk.length) {
                        out.write(chunk, 0, (int) Math.min(chunk.length, left));
                    }
                } catch (IOException e) {
                    System.out.println("connection ended early: " + e);
                }
            }
        }
    }
}
