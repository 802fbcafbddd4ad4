// ducttape's load generator for the Kafka HTTP bridge (the Strimzi REST API, JSON embedded format).
//
// A single source file with no dependencies, run by the JDK's source launcher on the node:
//   java RestLoadGen.java produce --url U --topic T --records N --record-size S --batch B
//                                 [--throughput R] [--concurrency C] [--interval-ms I]
//   java RestLoadGen.java consume --url U --topic T --records N --group G [--format F]
//                                 [--max-bytes M] [--poll-timeout-ms P] [--idle-timeout-ms D]
//                                 [--interval-ms I]
// produce: POST /topics/T with B records of S bytes per request (the last one may be smaller),
//          from C connections at once, throttled to R records/s if R > 0.
// consume: create a consumer instance in group G with embedded format F (binary, the default,
//          reads any record; json needs JSON values), subscribe to T, GET records until N have
//          been read (failing after D ms without any), then delete the instance. Bytes are
//          those of the record values (decoded, for binary).
// Every request is timed on the client. stdout gets one JSON object per line: {"event":"stats"}
// every I ms for the last interval, then {"event":"result"} with latency percentiles over
// requests. A failure prints "error: ..." on stderr and exits 1.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

public class RestLoadGen {
    static final String JSON_V2 = "application/vnd.kafka.json.v2+json";
    static final String BINARY_V2 = "application/vnd.kafka.binary.v2+json";
    static final String V2 = "application/vnd.kafka.v2+json";
    static final double MB = 1024.0 * 1024.0;

    public static void main(String[] args) {
        try {
            if (args.length < 1) throw new IllegalArgumentException("usage: RestLoadGen produce|consume --option value ...");
            Map<String, String> opts = options(args);
            switch (args[0]) {
                case "produce" -> produce(opts);
                case "consume" -> consume(opts);
                default -> throw new IllegalArgumentException("unknown mode " + args[0] + ": produce or consume");
            }
        } catch (Throwable e) {
            System.out.flush();
            System.err.println("error: " + (e instanceof IllegalStateException || e instanceof IllegalArgumentException ? e.getMessage() : describe(e)));
            System.exit(1);
        }
        System.exit(0);
    }

    // -- producing ------------------------------------------------------------------------------

    static void produce(Map<String, String> o) throws Exception {
        String url = need(o, "url"), topic = need(o, "topic");
        long records = Long.parseLong(need(o, "records"));
        int size = Integer.parseInt(need(o, "record-size")), batch = Integer.parseInt(need(o, "batch"));
        double throughput = Double.parseDouble(o.getOrDefault("throughput", "-1"));
        int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "1"));
        long intervalMs = Long.parseLong(o.getOrDefault("interval-ms", "5000"));
        long batches = (records + batch - 1) / batch;
        int lastCount = (int) (records - (batches - 1) * batch);
        byte[] full = produceBody(batch, size), last = produceBody(lastCount, size);
        HttpClient client = client();
        URI uri = URI.create(url + "/topics/" + topic);
        Recorder rec = new Recorder();
        AtomicLong next = new AtomicLong();
        AtomicReference<String> failure = new AtomicReference<>();
        long start = System.nanoTime();
        ScheduledExecutorService reporter = rec.report(intervalMs);
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
            Thread t = new Thread(() -> {
                long k;
                while (failure.get() == null && (k = next.getAndIncrement()) < batches) {
                    int count = k == batches - 1 ? lastCount : batch;
                    if (throughput > 0) pace(start, (double) k * batch / throughput);
                    HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
                        .header("Content-Type", JSON_V2).header("Accept", V2)
                        .POST(HttpRequest.BodyPublishers.ofByteArray(count == batch ? full : last)).build();
                    try {
                        long t0 = System.nanoTime();
                        HttpResponse<String> resp = client.send(req, HttpResponse.BodyHandlers.ofString());
                        double ms = (System.nanoTime() - t0) / 1e6;
                        if (resp.statusCode() != 200) {
                            failure.compareAndSet(null, "POST " + uri + " answered " + resp.statusCode() + ": " + clip(resp.body()));
                            return;
                        }
                        int errors = count(resp.body(), "\"error_code\"");
                        rec.add(ms, count - errors, (long) (count - errors) * size, errors, resp.body());
                    } catch (Exception e) {
                        failure.compareAndSet(null, "POST " + uri + " failed: " + describe(e));
                    }
                }
            }, "producer-" + w);
            t.start();
            workers.add(t);
        }
        for (Thread t : workers) t.join();
        reporter.shutdownNow();
        double seconds = (System.nanoTime() - start) / 1e9;
        if (failure.get() != null) throw new IllegalStateException(failure.get() + " (after " + rec.records + " records)");
        rec.printResult(seconds);
        if (rec.errors > 0) throw new IllegalStateException(rec.errors + " of " + records + " records were not written; first error: " + rec.firstError);
    }

    static byte[] produceBody(int count, int size) {
        String value = "x".repeat(size);
        StringBuilder b = new StringBuilder("{\"records\":[");
        for (int i = 0; i < count; i++) b.append(i == 0 ? "" : ",").append("{\"value\":\"").append(value).append("\"}");
        return b.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    static void pace(long start, double atSeconds) {
        long wait = start + (long) (atSeconds * 1e9) - System.nanoTime();
        if (wait > 0) {
            try { TimeUnit.NANOSECONDS.sleep(wait); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
        }
    }

    // -- consuming ------------------------------------------------------------------------------

    static void consume(Map<String, String> o) throws Exception {
        String url = need(o, "url"), topic = need(o, "topic"), group = need(o, "group");
        String format = o.getOrDefault("format", "binary");
        if (!format.equals("binary") && !format.equals("json")) throw new IllegalArgumentException("--format is binary or json, not " + format);
        String accept = format.equals("json") ? JSON_V2 : BINARY_V2;
        long records = Long.parseLong(need(o, "records"));
        long maxBytes = Long.parseLong(o.getOrDefault("max-bytes", "1048576"));
        long pollMs = Long.parseLong(o.getOrDefault("poll-timeout-ms", "1000"));
        long idleMs = Long.parseLong(o.getOrDefault("idle-timeout-ms", "30000"));
        long intervalMs = Long.parseLong(o.getOrDefault("interval-ms", "5000"));
        HttpClient client = client();
        String name = "ducttape-" + ProcessHandle.current().pid();
        String created = call(client, "POST", url + "/consumers/" + group, V2,
            "{\"name\":\"" + name + "\",\"format\":\"" + format + "\",\"auto.offset.reset\":\"earliest\",\"enable.auto.commit\":false}");
        Object base = ((Map<?, ?>) Json.parse(created)).get("base_uri");
        String instance = base instanceof String s && !s.isEmpty() ? s : url + "/consumers/" + group + "/instances/" + name;
        Recorder rec = new Recorder();
        ScheduledExecutorService reporter = null;
        try {
            call(client, "POST", instance + "/subscription", V2, "{\"topics\":[\"" + topic + "\"]}");
            URI poll = URI.create(instance + "/records?timeout=" + pollMs + "&max_bytes=" + maxBytes);
            long start = System.nanoTime(), lastData = start;
            reporter = rec.report(intervalMs);
            while (rec.records < records) {
                HttpRequest req = HttpRequest.newBuilder(poll).timeout(Duration.ofMillis(pollMs + 60000))
                    .header("Accept", accept).GET().build();
                long t0 = System.nanoTime();
                HttpResponse<String> resp = client.send(req, HttpResponse.BodyHandlers.ofString());
                double ms = (System.nanoTime() - t0) / 1e6;
                if (resp.statusCode() != 200) throw new IllegalStateException("GET " + poll + " answered " + resp.statusCode() + ": " + clip(resp.body()));
                List<?> batch = (List<?>) Json.parse(resp.body());
                long bytes = 0;
                for (Object r : batch) bytes += valueBytes(((Map<?, ?>) r).get("value"), format);
                rec.add(ms, batch.size(), bytes, 0, null);
                if (!batch.isEmpty()) lastData = System.nanoTime();
                else if ((System.nanoTime() - lastData) / 1e6 > idleMs)
                    throw new IllegalStateException("no records for " + idleMs + " ms: read " + rec.records + " of " + records + " from " + topic);
            }
            reporter.shutdownNow();
            rec.printResult((System.nanoTime() - start) / 1e9);
        } finally {
            if (reporter != null) reporter.shutdownNow();
            try { call(client, "DELETE", instance, V2, null); } catch (Exception e) { System.err.println("warning: could not delete " + instance + ": " + e.getMessage()); }
        }
    }

    static long valueBytes(Object value, String format) {
        if (value == null) return 0;
        if (format.equals("binary") && value instanceof String s) {
            int padding = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
            return s.length() / 4 * 3 - padding;
        }
        return (value instanceof String s ? s : Json.write(value)).getBytes(StandardCharsets.UTF_8).length;
    }

    // -- HTTP -----------------------------------------------------------------------------------

    static HttpClient client() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    /** One request that must answer 2xx; returns the body. */
    static String call(HttpClient client, String method, String url, String type, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60)).header("Accept", V2);
        if (body != null) b.header("Content-Type", type);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> resp;
        try {
            resp = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new IllegalStateException(method + " " + url + " failed: " + describe(e));
        }
        if (resp.statusCode() / 100 == 2) return resp.body();
        throw new IllegalStateException(method + " " + url + " answered " + resp.statusCode() + ": " + clip(resp.body()));
    }

    static String describe(Throwable e) {
        String text = e.toString();
        for (Throwable c = e.getCause(); c != null; c = c.getCause()) if (!text.contains(c.toString())) text += ": " + c;
        return text;
    }

    static String clip(String s) {
        s = s == null ? "" : s.replace('\n', ' ');
        return s.length() > 500 ? s.substring(0, 500) + "..." : s;
    }

    static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length())) n++;
        return n;
    }

    // -- measuring ------------------------------------------------------------------------------

    /** Requests' latencies and the records and bytes they carried, in all and per interval. */
    static final class Recorder {
        final long started = System.nanoTime();
        double[] latencies = new double[1024];
        int requests;
        long records, bytes, errors;
        String firstError;
        long winRecords, winBytes, winStart = System.nanoTime();
        double winLatencySum, winLatencyMax;
        int winRequests;

        synchronized void add(double ms, long recs, long byteCount, long errs, String body) {
            if (requests == latencies.length) latencies = Arrays.copyOf(latencies, requests * 2);
            latencies[requests++] = ms;
            records += recs;
            bytes += byteCount;
            errors += errs;
            if (errs > 0 && firstError == null) firstError = clip(body);
            winRecords += recs;
            winBytes += byteCount;
            winRequests++;
            winLatencySum += ms;
            winLatencyMax = Math.max(winLatencyMax, ms);
        }

        ScheduledExecutorService report(long intervalMs) {
            ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "reporter");
                t.setDaemon(true);
                return t;
            });
            s.scheduleAtFixedRate(this::printWindow, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
            return s;
        }

        synchronized void printWindow() {
            long now = System.nanoTime();
            double seconds = Math.max((now - winStart) / 1e9, 1e-9);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("event", "stats");
            m.put("time_s", round((now - started) / 1e9));
            m.put("records", winRecords);
            m.put("records_per_sec", round(winRecords / seconds));
            m.put("mbps", round(winBytes / MB / seconds));
            m.put("requests", winRequests);
            m.put("latency_avg_ms", round(winRequests == 0 ? 0 : winLatencySum / winRequests));
            m.put("latency_max_ms", round(winLatencyMax));
            m.put("total_records", records);
            emit(m);
            winRecords = winBytes = 0;
            winRequests = 0;
            winLatencySum = winLatencyMax = 0;
            winStart = now;
        }

        synchronized void printResult(double seconds) {
            double[] sorted = Arrays.copyOf(latencies, requests);
            Arrays.sort(sorted);
            double sum = 0;
            for (double l : sorted) sum += l;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("event", "result");
            m.put("records", records);
            m.put("records_per_sec", round(records / seconds));
            m.put("mbps", round(bytes / MB / seconds));
            m.put("total_mb", round(bytes / MB));
            m.put("elapsed_s", round(seconds));
            m.put("requests", requests);
            m.put("requests_per_sec", round(requests / seconds));
            m.put("errors", errors);
            m.put("latency_avg_ms", round(requests == 0 ? 0 : sum / requests));
            m.put("latency_max_ms", round(requests == 0 ? 0 : sorted[requests - 1]));
            m.put("latency_50th_ms", round(percentile(sorted, 0.50)));
            m.put("latency_95th_ms", round(percentile(sorted, 0.95)));
            m.put("latency_99th_ms", round(percentile(sorted, 0.99)));
            m.put("latency_999th_ms", round(percentile(sorted, 0.999)));
            emit(m);
        }

        static double percentile(double[] sorted, double p) {
            if (sorted.length == 0) return 0;
            return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
        }

        static double round(double v) { return Math.round(v * 1000.0) / 1000.0; }

        static void emit(Map<String, Object> m) {
            System.out.println(Json.write(m));
            System.out.flush();
        }
    }

    // -- options and JSON -----------------------------------------------------------------------

    static Map<String, String> options(String[] args) {
        Map<String, String> o = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) throw new IllegalArgumentException("expected --option value, got " + args[i]);
            o.put(args[i].substring(2), args[i + 1]);
        }
        return o;
    }

    static String need(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) throw new IllegalArgumentException("missing --" + key);
        return v;
    }

    /** The little JSON this needs: parse into Map/List/String/Double/Boolean/null, and write. */
    static final class Json {
        final String s;
        int i;

        Json(String s) { this.s = s; }

        static Object parse(String text) {
            Json j = new Json(text);
            Object v = j.value();
            j.ws();
            if (j.i != text.length()) throw j.error("trailing characters");
            return v;
        }

        Object value() {
            ws();
            if (i >= s.length()) throw error("unexpected end");
            char c = s.charAt(i);
            if (c == '{') {
                Map<String, Object> m = new LinkedHashMap<>();
                i++;
                ws();
                if (peek('}')) return m;
                do {
                    ws();
                    String k = string();
                    ws();
                    expect(':');
                    m.put(k, value());
                    ws();
                } while (take(','));
                expect('}');
                return m;
            }
            if (c == '[') {
                List<Object> l = new ArrayList<>();
                i++;
                ws();
                if (peek(']')) return l;
                do { l.add(value()); ws(); } while (take(','));
                expect(']');
                return l;
            }
            if (c == '"') return string();
            if (s.startsWith("true", i)) { i += 4; return Boolean.TRUE; }
            if (s.startsWith("false", i)) { i += 5; return Boolean.FALSE; }
            if (s.startsWith("null", i)) { i += 4; return null; }
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
            if (start == i) throw error("unexpected character '" + c + "'");
            return Double.parseDouble(s.substring(start, i));
        }

        String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                if (i >= s.length()) throw error("unterminated string");
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') { b.append(c); continue; }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> { b.append((char) Integer.parseInt(s.substring(i, i + 4), 16)); i += 4; }
                    default -> b.append(e);
                }
            }
        }

        void ws() { while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++; }
        boolean peek(char c) { if (i < s.length() && s.charAt(i) == c) { i++; return true; } return false; }
        boolean take(char c) { return peek(c); }
        void expect(char c) { if (!peek(c)) throw error("expected '" + c + "'"); }
        IllegalStateException error(String what) { return new IllegalStateException("bad JSON at " + i + ": " + what + " in " + clip(s)); }

        static String write(Object v) {
            if (v == null) return "null";
            if (v instanceof String str) {
                StringBuilder b = new StringBuilder("\"");
                for (char c : str.toCharArray()) {
                    if (c == '"' || c == '\\') b.append('\\').append(c);
                    else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
                return b.append('"').toString();
            }
            if (v instanceof Map<?, ?> m) {
                StringBuilder b = new StringBuilder("{");
                for (Map.Entry<?, ?> e : m.entrySet()) b.append(b.length() > 1 ? "," : "").append(write(String.valueOf(e.getKey()))).append(':').append(write(e.getValue()));
                return b.append('}').toString();
            }
            if (v instanceof List<?> l) {
                StringBuilder b = new StringBuilder("[");
                for (Object x : l) b.append(b.length() > 1 ? "," : "").append(write(x));
                return b.append(']').toString();
            }
            if (v instanceof Double d && d == Math.rint(d) && !Double.isInfinite(d)) return String.format(Locale.ROOT, "%.1f", d);
            return String.valueOf(v);
        }
    }
}
