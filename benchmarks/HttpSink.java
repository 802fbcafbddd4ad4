// A trivial stand-in for the Kafka HTTP bridge, for benchmarks/rest_loadgen.py: it answers the
// requests RestLoadGen makes at once and does no other work.
//   java HttpSink.java ADDRESS PORT RECORD_SIZE RECORDS_PER_POLL
// POST /topics/T answers one offset per record sent; POST /consumers/G makes an "instance";
// GET .../records returns RECORDS_PER_POLL records of RECORD_SIZE bytes; the rest answer 204.

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

public class HttpSink {
    public static void main(String[] args) throws IOException {
        String address = args[0];
        int port = Integer.parseInt(args[1]), size = Integer.parseInt(args[2]), perPoll = Integer.parseInt(args[3]);
        StringBuilder records = new StringBuilder("[");
        for (int i = 0; i < perPoll; i++) {
            records.append(i == 0 ? "" : ",").append("{\"topic\":\"t\",\"key\":null,\"value\":\"")
                .append("x".repeat(size)).append("\",\"partition\":0,\"offset\":").append(i).append('}');
        }
        byte[] poll = records.append(']').toString().getBytes(StandardCharsets.UTF_8);
        HttpServer server = HttpServer.create(new InetSocketAddress(address, port), 512);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath(), method = ex.getRequestMethod();
            byte[] body = readAll(ex.getRequestBody());
            if (method.equals("POST") && path.startsWith("/topics/")) {
                int n = count(new String(body, StandardCharsets.UTF_8), "\"value\"");
                StringBuilder b = new StringBuilder("{\"offsets\":[");
                for (int i = 0; i < n; i++) b.append(i == 0 ? "" : ",").append("{\"partition\":0,\"offset\":").append(i).append('}');
                send(ex, 200, b.append("]}").toString().getBytes(StandardCharsets.UTF_8));
            } else if (method.equals("POST") && path.matches("/consumers/[^/]+")) {
                String base = "http://" + address + ":" + port + path + "/instances/sink";
                send(ex, 200, ("{\"instance_id\":\"sink\",\"base_uri\":\"" + base + "\"}").getBytes(StandardCharsets.UTF_8));
            } else if (method.equals("GET") && path.endsWith("/records")) {
                send(ex, 200, poll);
            } else {
                send(ex, 204, null);
            }
        });
        server.start();
        System.out.println("sink ready on " + address + ":" + port);
    }

    static byte[] readAll(InputStream in) throws IOException {
        try (in) { return in.readAllBytes(); }
    }

    static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) n++;
        return n;
    }

    static void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "application/vnd.kafka.v2+json");
        ex.sendResponseHeaders(status, body == null ? -1 : body.length);
        if (body != null) {
            try (OutputStream out = ex.getResponseBody()) { out.write(body); }
        }
        ex.close();
    }
}
