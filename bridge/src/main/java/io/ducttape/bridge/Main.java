package io.ducttape.bridge;

import org.apache.logging.log4j.LogManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Starts the bridge: {@code Main --config-file=application.properties} (the Strimzi bridge's command line).
 *
 * <p>Logs {@code HTTP server started on HOST:PORT} once it serves requests. SIGTERM (or Ctrl-C) stops it
 * cleanly: no new requests, consumers and the producer closed, exit code 0. A bad command line or
 * configuration is one line on stderr and exit code 2.
 */
public final class Main {
    static {
        // Our shutdown hook logs until the end and then stops log4j itself.
        System.setProperty("log4j.shutdownHookEnabled", "false");
        // Answer small requests at once instead of waiting for the client's delayed ACK (Nagle).
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {
    }

    public static void main(String[] args) {
        Path configFile = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("--config-file=")) {
                configFile = Path.of(args[i].substring("--config-file=".length()));
            } else if (args[i].equals("--config-file") && i + 1 < args.length) {
                configFile = Path.of(args[++i]);
            } else {
                fail("unknown argument '" + args[i] + "'; usage: Main --config-file=application.properties");
            }
        }
        if (configFile == null) {
            fail("usage: Main --config-file=application.properties");
        }
        BridgeConfig config = null;
        try {
            config = BridgeConfig.load(configFile);
        } catch (BridgeConfig.ConfigException e) {
            fail(e.getMessage());
        }
        String version = Main.class.getPackage().getImplementationVersion();
        version = version == null ? "dev" : version;
        LOG.info("ducttape bridge {} (bridge.id={}) starting; Kafka at {}", version, config.bridgeId,
                config.producer.get("bootstrap.servers"));
        for (String key : config.ignored) {
            LOG.warn("configuration key {} is not used by this bridge", key);
        }

        HttpBridge bridge;
        InetSocketAddress address;
        try {
            bridge = new HttpBridge(config, version);
            address = bridge.start();
        } catch (Exception e) {
            LOG.error("could not start the bridge on {}:{}: {}", config.httpHost, config.httpPort, e.toString(), e);
            LogManager.shutdown();
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping: closing the HTTP server, consumers and producer");
            try {
                bridge.close();
                LOG.info("bridge stopped");
            } catch (RuntimeException e) {
                LOG.error("error while stopping", e);
            } finally {
                stopped.countDown();
                LogManager.shutdown();
            }
        }, "shutdown"));
        LOG.info("HTTP server started on {}:{}", address.getHostString(), address.getPort());
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void fail(String message) {
        System.err.println("error: " + message);
        System.exit(2);
    }
}
