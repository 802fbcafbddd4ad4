package io.ducttape.bridge;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP server and its routes (the Strimzi Kafka Bridge v2 API, producer and consumer subset).
 *
 * <p>Requests run on a pool of threads, one request per thread, so a long poll or a produce request
 * waiting for acknowledgements holds up no other request. Connections are kept alive between requests.
 */
final class HttpBridge implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpBridge.class);
    /** Most requests served at once; a client that opens more connections waits for a thread. */
    private static final int MAX_THREADS = 512;

    private final BridgeConfig config;
    private final String version;
    private final ObjectMapper mapper = new ObjectMapper();
    private final ProducerEndpoint producer;
    private final ConsumerEndpoint consumers;
    private final HttpServer server;
    private final ThreadPoolExecutor workers;
    private final ScheduledExecutorService housekeeping;
    private volatile boolean ready;

    HttpBridge(BridgeConfig config, String version) throws IOException {
        this.config = config;
        this.version = version;
        this.producer = new ProducerEndpoint(config, mapper);
        this.consumers = new ConsumerEndpoint(config, mapper);
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(8, MAX_THREADS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "consumer-expiry");
            t.setDaemon(true);
            return t;
        });
        this.server = HttpServer.create(new InetSocketAddress(config.httpHost, config.httpPort), 1024);
        server.createContext("/", this::handle);
        server.setExecutor(workers);
    }

    /** Starts listening; returns the address actually bound (port 0 picks a free one). */
    InetSocketAddress start() {
        server.start();
        if (config.consumerIdleTimeoutSeconds > 0) {
            long period = Math.max(1, Math.min(30, config.consumerIdleTimeoutSeconds / 2));
            housekeeping.scheduleAtFixedRate(() -> consumers.expireIdle(config.consumerIdleTimeoutSeconds),
                    period, period, TimeUnit.SECONDS);
        }
        ready = true;
        return server.getAddress();
    }

    private void handle(HttpExchange http) {
        Exchange ex = new Exchange(http, mapper);
        try {
            route(ex);
        } catch (HttpError e) {
            if (e.status >= 500) {
                LOG.error("{} {}: {} {}", ex.method(), ex.path(), e.status, e.getMessage());
            } else {
                LOG.debug("{} {}: {} {}", ex.method(), ex.path(), e.status, e.getMessage());
            }
            respondError(ex, e.status, e.getMessage());
        } catch (IOException e) {
            // The client went away (or the server is stopping) before the answer was written.
            LOG.warn("{} {}: could not answer: {}", ex.method(), ex.path(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            respondError(ex, 503, "the bridge is shutting down");
        } catch (Exception e) {
            LOG.error("{} {} failed", ex.method(), ex.path(), e);
            respondError(ex, 500, String.valueOf(e.getMessage()));
        } finally {
            http.close();
        }
    }

    private static void respondError(Exchange ex, int status, String message) {
        if (ex.responded()) {
            return;
        }
        try {
            ex.sendError(status, message);
        } catch (IOException e) {
            LOG.debug("could not send error response: {}", e.toString());
        }
    }

    private void route(Exchange ex) throws Exception {
        List<String> p = segments(ex.path());
        String method = ex.method();
        int n = p.size();
        if (n == 0) {
            allow(method, "GET");
            ObjectNode info = mapper.createObjectNode();
            info.put("bridge_version", version);
            ex.sendJson(200, ContentTypes.JSON, info);
        } else if (n == 1 && (p.get(0).equals("healthy") || p.get(0).equals("ready"))) {
            allow(method, "GET");
            if (ready) {
                ex.sendNoContent();
            } else {
                throw new HttpError(503, "not ready");
            }
        } else if (p.get(0).equals("topics") && (n == 2 || n == 4 && p.get(2).equals("partitions"))) {
            allow(method, "POST");
            producer.send(ex, p.get(1), n == 4 ? p.get(3) : null);
        } else if (p.get(0).equals("consumers") && n == 2) {
            allow(method, "POST");
            consumers.create(ex, p.get(1));
        } else if (p.get(0).equals("consumers") && n >= 4 && p.get(2).equals("instances")) {
            routeInstance(ex, method, p.get(1), p.get(3), p.subList(4, n));
        } else {
            throw HttpError.notFound("Not Found");
        }
    }

    private void routeInstance(Exchange ex, String method, String group, String name, List<String> rest) throws Exception {
        String op = String.join("/", rest);
        switch (op) {
            case "" -> {
                allow(method, "DELETE");
                consumers.delete(ex, group, name);
            }
            case "subscription" -> {
                allow(method, "POST", "DELETE", "GET");
                ConsumerInstance c = consumers.instance(group, name);
                switch (method) {
                    case "POST" -> consumers.subscribe(ex, c);
                    case "DELETE" -> consumers.unsubscribe(ex, c);
                    default -> consumers.subscription(ex, c);
                }
            }
            case "assignments" -> {
                allow(method, "POST");
                consumers.assign(ex, consumers.instance(group, name));
            }
            case "records" -> {
                allow(method, "GET");
                consumers.records(ex, consumers.instance(group, name));
            }
            case "offsets" -> {
                allow(method, "POST");
                consumers.commit(ex, consumers.instance(group, name));
            }
            case "positions" -> {
                allow(method, "POST");
                consumers.seek(ex, consumers.instance(group, name));
            }
            case "positions/beginning", "positions/end" -> {
                allow(method, "POST");
                consumers.seekTo(ex, consumers.instance(group, name), op.endsWith("beginning"));
            }
            default -> throw HttpError.notFound("Not Found");
        }
    }

    private static void allow(String method, String... allowed) throws HttpError {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw new HttpError(405, "Method Not Allowed: use " + String.join(" or ", allowed));
    }

    private static List<String> segments(String rawPath) {
        List<String> out = new ArrayList<>();
        for (String s : rawPath.split("/")) {
            if (!s.isEmpty()) {
                out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** Stops accepting requests, lets running ones finish for up to a second, closes consumers and the producer. */
    @Override
    public void close() {
        ready = false;
        server.stop(1);
        housekeeping.shutdownNow();
        consumers.close();
        producer.close();
        workers.shutdownNow();
    }
}
