// ducttape's load generator: Kafka producers at a constant rate, natively or through the Kafka HTTP
// bridge (the Strimzi REST API v2, binary embedded format), measured the same way on both paths;
// and a consumer through the bridge.
//
// One source file run by the JDK's source launcher with Kafka's libs on the class path (for
// kafka-clients and HdrHistogram, both shipped with Kafka):
//   java -cp 'KAFKA/libs/*' LoadGen.java produce-native --bootstrap B --topic T --record-size S
//        --seconds D [--rate R | --rates R1,R2,...] [--warmup-s W] [--producer-props k=v,k=v...] [--interval-ms I]
//   java -cp 'KAFKA/libs/*' LoadGen.java produce-rest --url U --topic T --record-size S
//        --seconds D [--rate R | --rates R1,R2,...] [--warmup-s W] --records-per-request N [--in-flight C] [--interval-ms I]
//   java -cp 'KAFKA/libs/*' LoadGen.java produce --plan PATH@R,PATH@R,... [--bootstrap B] [--url U] --topic T
//        --record-size S --seconds D [--warmup-s W] [--producer-props ...] [--in-flight C] [--interval-ms I]
//   java -cp 'KAFKA/libs/*' LoadGen.java consume-rest --url U --topic T --records N --group G
//        [--max-bytes M] [--poll-timeout-ms P] [--idle-timeout-ms D] [--interval-ms I]
//
// Producing (both paths, one pacing loop, one latency definition):
// - Records are values of S random bytes (a pool of random payloads), no keys.
// - With --rate R > 0 the load is open-loop at a constant rate: record i is due at start + i/R,
//   for R*D records. Records go out in units (native: 1 record per KafkaProducer.send; REST: N
//   records per POST /topics/T), each unit when its last record is due. When the path cannot
//   take a unit (native: send() blocks on a full buffer; REST: C requests are in flight
//   already) the loop falls behind the schedule; latencies still count from the due times, so
//   a stalled system cannot hide its stalls by being sent less (no coordinated omission).
//   A run that falls so far behind stops sending at 2*D: the records not sent by then
//   (records_unsent) enter the latency histogram with their wait so far, a lower bound, so the
//   percentiles are then lower bounds ("at least") and the run lasts at most twice its length.
// - Without --rate the loop hands units over as fast as the path takes them, for D seconds;
//   a record is then due when the loop reached its unit.
// - First W seconds of the same load warm up the JVMs and connections, unmeasured; the measured
//   run starts once the warm-up's records are all acknowledged.
// - --rates runs one measured run per rate, in the order given, in this one process (0: as fast
//   as it goes), after one warm-up at the first; each run waits for the last one's
//   acknowledgements and prints its own result.
// - produce --plan interleaves both paths in one process: each step is native@R or rest/N@R (N
//   records per request), run in the order given; each path warms up W seconds before its
//   first step, at that step's rate and N.
// - A record's latency runs from its due time to its acknowledgement: the send callback
//   (native) or the response of the request that carried it (REST, 200 and an offset without
//   error_code for the record). Every record goes into an HdrHistogram (microseconds, 3
//   significant digits); percentiles are over records, not requests.
// - records_per_sec and mbps are acknowledged records (and their value bytes, MiB) per second
//   between the first acknowledgement and the last (the records of the first one not counted), so
//   a run that keeps up achieves its offered rate however long its last record took.
// Consuming: create a consumer instance in group G (binary format), subscribe to T, GET records
// until N have been read (failing after D ms without any), then delete the instance; bytes are
// those of the decoded values.
//
// stdout gets one JSON object per line: {"event":"stats"} every I ms for the last interval, and
// {"event":"result"} at the end of each run. A failure prints "error: ..." on stderr and exits 1.

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class LoadGen {
    static final String BINARY_V2 = "application/vnd.kafka.binary.v2+json";
    static final String V2 = "application/vnd.kafka.v2+json";
    static final double MB = 1024.0 * 1024.0;
    static final int PAYLOADS = 1024;
    static final long DRAIN_SECONDS = 180;

    public static void main(String[] args) {
        try {
            if (args.length < 1) throw new IllegalArgumentException("usage: LoadGen produce-native|produce-rest|consume-rest --option value ...");
            Map<String, String> opts = options(args);
            switch (args[0]) {
                case "produce-native" -> produce(opts, plan("native", opts));
                case "produce-rest" -> produce(opts, plan("rest/" + need(opts, "records-per-request"), opts));
                case "produce" -> produce(opts, need(opts, "plan"));
                case "consume-rest" -> consume(opts);
                default -> throw new IllegalArgumentException("unknown mode " + args[0] + ": produce-native, produce-rest or consume-rest");
            }
        } catch (Throwable e) {
            System.out.flush();
            System.err.println("error: " + (e instanceof IllegalStateException || e instanceof IllegalArgumentException ? e.getMessage() : describe(e)));
            System.exit(1);
        }
        System.exit(0);
    }

    // -- producing: one pacing loop for both paths ----------------------------------------------

    /** A path records go out on, a unit of records at a time. */
    interface Sender {
        /** Sends records [first, first + count); record first + j is due at t0 + j * step (ns). May block. */
        void send(long first, int count, long t0, double step, Recorder rec) throws Exception;

        /** Waits until every record sent is acknowledged or failed. */
        void await(Recorder rec, Duration timeout) throws Exception;

        void close();

        String path();
    }

    /** The plan of --rate/--rates on one path: PATH@R,PATH@R,... */
    static String plan(String path, Map<String, String> o) {
        StringBuilder b = new StringBuilder();
        for (String r : o.getOrDefault("rates", o.getOrDefault("rate", "0")).split(",")) b.append(b.length() > 0 ? "," : "").append(path).append('@').append(r.trim());
        return b.toString();
    }

    /** Runs the plan's steps (native@R or rest/N@R) in order, each path warmed up before its first. */
    static void produce(Map<String, String> o, String plan) throws Exception {
        double seconds = Double.parseDouble(need(o, "seconds")), warmup = Double.parseDouble(o.getOrDefault("warmup-s", "0"));
        long intervalMs = Long.parseLong(o.getOrDefault("interval-ms", "5000"));
        int size = Integer.parseInt(need(o, "record-size"));
        if (seconds <= 0) throw new IllegalArgumentException("--seconds must be positive");
        List<String[]> steps = new ArrayList<>();
        for (String step : plan.split(",")) {
            String[] parts = step.trim().split("@");
            if (parts.length != 2 || !parts[0].matches("native|rest/\\d+")) throw new IllegalArgumentException("a plan step is native@RATE or rest/N@RATE, not " + step);
            if (Double.parseDouble(parts[1]) < 0) throw new IllegalArgumentException("a rate must be 0 (as fast as it goes) or positive, not " + parts[1]);
            if (parts[0].equals("rest/0")) throw new IllegalArgumentException("--records-per-request must be at least 1");
            steps.add(parts);
        }
        Map<String, Sender> senders = new HashMap<>();
        java.util.Set<String> warm = new java.util.HashSet<>();
        try {
            for (int k = 0; k < steps.size(); k++) {
                String key = steps.get(k)[0], path = key.startsWith("rest") ? "rest" : "native";
                double rate = Double.parseDouble(steps.get(k)[1]);
                int unit = path.equals("rest") ? Integer.parseInt(key.substring(5)) : 1;
                Sender sender = senders.get(path);
                if (sender == null) {
                    sender = path.equals("rest") ? new RestSender(o) : new NativeSender(o);
                    senders.put(path, sender);
                }
                boolean warming = warmup > 0 && warm.add(path);
                if (warming) run(sender, new Recorder(size), unit, rate, warmup);
                Recorder rec = new Recorder(size);
                long sent;
                ScheduledExecutorService reporter = rec.report(intervalMs);
                try {
                    sent = run(sender, rec, unit, rate, seconds);
                } finally {
                    reporter.shutdownNow();
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("event", "result");
                m.put("path", path);
                m.put("run", k);
                m.put("records_per_unit", unit);
                m.put("target_records_per_sec", rate > 0 ? rate : null);
                m.put("warmup_s", warming ? warmup : 0.0);
                m.put("records_sent", sent);
                m.put("records_unsent", rec.unsent);
                m.putAll(rec.result());
                emit(m);
                if (rec.errors > 0) throw new IllegalStateException(rec.errors + " of " + sent + " records were not written; first error: " + rec.firstError);
            }
        } finally {
            for (Sender sender : senders.values()) sender.close();
        }
    }

    /** The pacing loop: sends for ``seconds`` (at ``rate`` records/s if positive) in units of
     * ``unit`` records, then waits for every acknowledgement; returns the records sent. At a rate,
     * sending stops at twice ``seconds``: the records left are counted unsent (``Recorder.unsent``). */
    static long run(Sender sender, Recorder rec, int unit, double rate, double seconds) throws Exception {
        long planned = rate > 0 ? Math.max(1, Math.round(rate * seconds)) : Long.MAX_VALUE, i = 0;
        long start = rec.start = System.nanoTime(), stop = start + (long) (seconds * 1e9);
        long cutoff = start + (long) (2 * seconds * 1e9);
        double step = rate > 0 ? 1e9 / rate : 0;
        while (i < planned && rec.failure.get() == null) {
            int count = (int) Math.min(unit, planned - i);
            long t0;
            if (rate > 0) {
                t0 = start + (long) (i * step);
                long due = t0 + (long) ((count - 1) * step), now = System.nanoTime(), wait = due - now;
                if (now >= cutoff) {
                    rec.unsent(planned - i, t0, step, now);
                    break;
                }
                if (wait > 0) LockSupport.parkNanos(wait);
                rec.lag(System.nanoTime() - due);
            } else {
                t0 = System.nanoTime();
                if (t0 >= stop) break;
            }
            sender.send(i, count, t0, step, rec);
            i += count;
        }
        sender.await(rec, Duration.ofSeconds(DRAIN_SECONDS));
        if (rec.failure.get() != null) throw new IllegalStateException(rec.failure.get() + " (after " + rec.acked + " records)");
        return i;
    }

    static byte[][] payloads(int size) {
        SplittableRandom random = new SplittableRandom();
        byte[][] pool = new byte[PAYLOADS][size];
        for (byte[] p : pool) random.nextBytes(p);
        return pool;
    }

    /** KafkaProducer.send per record; acknowledged in its callback. */
    static final class NativeSender implements Sender {
        final KafkaProducer<byte[], byte[]> producer;
        final String topic;
        final byte[][] pool;

        NativeSender(Map<String, String> o) {
            Properties props = new Properties();
            for (String kv : o.getOrDefault("producer-props", "").split(",")) {
                if (kv.isBlank()) continue;
                int eq = kv.indexOf('=');
                if (eq < 1) throw new IllegalArgumentException("--producer-props takes key=value,... not " + kv);
                props.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            }
            props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, need(o, "bootstrap"));
            props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            topic = need(o, "topic");
            pool = payloads(Integer.parseInt(need(o, "record-size")));
            producer = new KafkaProducer<>(props);
        }

        public String path() { return "native"; }

        public void send(long first, int count, long t0, double step, Recorder rec) {
            for (int j = 0; j < count; j++) {
                long due = t0 + (long) (j * step);
                producer.send(new ProducerRecord<>(topic, pool[(int) ((first + j) % PAYLOADS)]), (md, e) -> {
                    if (e == null) rec.ack(1, due, 0, System.nanoTime());
                    else rec.fail(1, e.toString());
                });
            }
            rec.requests(count);
        }

        public void await(Recorder rec, Duration timeout) {
            producer.flush();  // bounded by delivery.timeout.ms
        }

        public void close() { producer.close(Duration.ofSeconds(DRAIN_SECONDS)); }
    }

    /** POST /topics/T with N records per request, at most C requests in flight. */
    static final class RestSender implements Sender {
        final HttpClient client = client();
        final URI uri;
        final String[] values;
        final int inFlight;
        final Semaphore slots;

        RestSender(Map<String, String> o) {
            uri = URI.create(need(o, "url") + "/topics/" + need(o, "topic"));
            Base64.Encoder b64 = Base64.getEncoder();
            byte[][] pool = payloads(Integer.parseInt(need(o, "record-size")));
            values = new String[pool.length];
            for (int k = 0; k < pool.length; k++) values[k] = b64.encodeToString(pool[k]);
            inFlight = Integer.parseInt(o.getOrDefault("in-flight", "2"));
            if (inFlight < 1) throw new IllegalArgumentException("--in-flight must be at least 1");
            slots = new Semaphore(inFlight);
        }

        public String path() { return "rest"; }

        public void send(long first, int count, long t0, double step, Recorder rec) throws Exception {
            StringBuilder b = new StringBuilder(count * (values[0].length() + 16) + 16).append("{\"records\":[");
            for (int j = 0; j < count; j++) b.append(j == 0 ? "" : ",").append("{\"value\":\"").append(values[(int) ((first + j) % PAYLOADS)]).append("\"}");
            HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
                .header("Content-Type", BINARY_V2).header("Accept", V2)
                .POST(HttpRequest.BodyPublishers.ofString(b.append("]}").toString())).build();
            while (!slots.tryAcquire(1, TimeUnit.SECONDS)) {
                if (rec.failure.get() != null) return;
            }
            rec.requests(1);
            client.sendAsync(req, HttpResponse.BodyHandlers.ofString()).whenComplete((resp, e) -> {
                try {
                    long now = System.nanoTime();
                    if (e != null) rec.failure.compareAndSet(null, "POST " + uri + " failed: " + describe(e));
                    else if (resp.statusCode() != 200) rec.failure.compareAndSet(null, "POST " + uri + " answered " + resp.statusCode() + ": " + clip(resp.body()));
                    else {
                        int errors = count(resp.body(), "\"error_code\"");
                        if (errors > 0) rec.fail(errors, clip(resp.body()));
                        rec.ack(count - errors, t0, step, now);
                    }
                } finally {
                    slots.release();
                }
            });
        }

        public void await(Recorder rec, Duration timeout) throws Exception {
            if (!slots.tryAcquire(inFlight, timeout.toMillis(), TimeUnit.MILLISECONDS))
                rec.failure.compareAndSet(null, "requests still in flight after " + timeout.toSeconds() + " s");
            else slots.release(inFlight);
        }

        public void close() { }
    }

    // -- consuming ------------------------------------------------------------------------------

    static void consume(Map<String, String> o) throws Exception {
        String url = need(o, "url"), topic = need(o, "topic"), group = need(o, "group");
        long records = Long.parseLong(need(o, "records"));
        long maxBytes = Long.parseLong(o.getOrDefault("max-bytes", "1048576"));
        long pollMs = Long.parseLong(o.getOrDefault("poll-timeout-ms", "1000"));
        long idleMs = Long.parseLong(o.getOrDefault("idle-timeout-ms", "30000"));
        long intervalMs = Long.parseLong(o.getOrDefault("interval-ms", "5000"));
        HttpClient client = client();
        String name = "ducttape-" + ProcessHandle.current().pid();
        String created = call(client, "POST", url + "/consumers/" + group, V2,
            "{\"name\":\"" + name + "\",\"format\":\"binary\",\"auto.offset.reset\":\"earliest\",\"enable.auto.commit\":false}");
        Object base = ((Map<?, ?>) Json.parse(created)).get("base_uri");
        String instance = base instanceof String s && !s.isEmpty() ? s : url + "/consumers/" + group + "/instances/" + name;
        Recorder rec = new Recorder(0);
        ScheduledExecutorService reporter = null;
        try {
            call(client, "POST", instance + "/subscription", V2, "{\"topics\":[\"" + topic + "\"]}");
            URI poll = URI.create(instance + "/records?timeout=" + pollMs + "&max_bytes=" + maxBytes);
            long start = rec.start = System.nanoTime(), lastData = start, polls = 0;
            reporter = rec.report(intervalMs);
            while (rec.acked < records) {
                HttpRequest req = HttpRequest.newBuilder(poll).timeout(Duration.ofMillis(pollMs + 60000))
                    .header("Accept", BINARY_V2).GET().build();
                HttpResponse<String> resp = client.send(req, HttpResponse.BodyHandlers.ofString());
                polls++;
                if (resp.statusCode() != 200) throw new IllegalStateException("GET " + poll + " answered " + resp.statusCode() + ": " + clip(resp.body()));
                List<?> batch = (List<?>) Json.parse(resp.body());
                long bytes = 0;
                for (Object r : batch) bytes += valueBytes(((Map<?, ?>) r).get("value"));
                rec.consumed(batch.size(), bytes);
                if (!batch.isEmpty()) lastData = System.nanoTime();
                else if ((System.nanoTime() - lastData) / 1e6 > idleMs)
                    throw new IllegalStateException("no records for " + idleMs + " ms: read " + rec.acked + " of " + records + " from " + topic);
            }
            reporter.shutdownNow();
            double seconds = (rec.last - start) / 1e9;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("event", "result");
            m.put("records", rec.acked);
            m.put("records_per_sec", round(rec.acked / seconds));
            m.put("mbps", round(rec.bytes / MB / seconds));
            m.put("total_mb", round(rec.bytes / MB));
            m.put("elapsed_s", round(seconds));
            m.put("polls", polls);
            emit(m);
        } finally {
            if (reporter != null) reporter.shutdownNow();
            try { call(client, "DELETE", instance, V2, null); } catch (Exception e) { System.err.println("warning: could not delete " + instance + ": " + e.getMessage()); }
        }
    }

    static long valueBytes(Object value) {
        if (!(value instanceof String s)) return 0;
        int padding = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
        return s.length() / 4 * 3 - padding;
    }

    // -- measuring ------------------------------------------------------------------------------

    /** Every acknowledged record's latency, and the counts, in all and per reporting interval. */
    static final class Recorder {
        static final long MAX_US = TimeUnit.HOURS.toMicros(1);
        final Histogram latency = new Histogram(MAX_US, 3);
        final AtomicReference<String> failure = new AtomicReference<>();
        final int recordSize;
        volatile long start = System.nanoTime();
        long acked, bytes, errors, requests, first, firstCount, last, maxLagNs, unsent;
        String firstError;
        long winRecords, winBytes, winMaxUs, winStart = System.nanoTime();

        Recorder(int recordSize) { this.recordSize = recordSize; }

        /** ``count`` records acknowledged at ``now``; record j was due at t0 + j * step. */
        synchronized void ack(int count, long t0, double step, long now) {
            winMaxUs = Math.max(winMaxUs, waited(count, t0, step, now));
            if (acked == 0) { first = now; firstCount = count; }
            acked += count;
            bytes += (long) count * recordSize;
            winRecords += count;
            winBytes += (long) count * recordSize;
            last = now;
        }

        /** ``count`` records not sent by ``now`` (the run fell behind): record j was due at
         * t0 + j * step; its wait so far enters the histogram as a lower bound of its latency. */
        synchronized void unsent(long count, long t0, double step, long now) {
            waited(count, t0, step, now);
            unsent += count;
        }

        /** Records the wait until ``now`` of ``count`` records, record j due at t0 + j * step;
         * returns the longest, in microseconds. */
        private long waited(long count, long t0, double step, long now) {
            long longest = 0;
            for (long j = 0; j < count; j++) {
                long us = Math.max(0, (now - t0 - (long) (j * step)) / 1000);
                latency.recordValue(Math.min(us, MAX_US));
                longest = Math.max(longest, us);
            }
            return longest;
        }

        synchronized void fail(int count, String why) {
            errors += count;
            if (firstError == null) firstError = why;
        }

        synchronized void consumed(int count, long byteCount) {
            acked += count;
            bytes += byteCount;
            winRecords += count;
            winBytes += byteCount;
            last = System.nanoTime();
        }

        synchronized void requests(int n) { requests += n; }

        synchronized void lag(long ns) { maxLagNs = Math.max(maxLagNs, ns); }

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
            m.put("records", winRecords);
            m.put("records_per_sec", round(winRecords / seconds));
            m.put("mbps", round(winBytes / MB / seconds));
            if (recordSize > 0) m.put("latency_max_ms", round(winMaxUs / 1000.0));
            m.put("total_records", acked);
            emit(m);
            winRecords = winBytes = winMaxUs = 0;
            winStart = now;
        }

        /** The figures of a producing run: rates between the first acknowledgement and the last
         * (from the start when there was only one). */
        synchronized Map<String, Object> result() {
            double seconds = Math.max((last - start) / 1e9, 1e-9);
            boolean span = acked > firstCount && last > first;
            double rateSeconds = span ? (last - first) / 1e9 : seconds;
            long counted = span ? acked - firstCount : acked;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("records", acked);
            m.put("errors", errors);
            m.put("requests", requests);
            m.put("elapsed_s", round(seconds));
            m.put("records_per_sec", round(counted / rateSeconds));
            m.put("mbps", round(counted * (double) recordSize / MB / rateSeconds));
            m.put("total_mb", round(bytes / MB));
            m.put("latency_avg_ms", round(latency.getMean() / 1000.0));
            m.put("latency_50th_ms", ms(50));
            m.put("latency_95th_ms", ms(95));
            m.put("latency_99th_ms", ms(99));
            m.put("latency_999th_ms", ms(99.9));
            m.put("latency_max_ms", round(latency.getMaxValue() / 1000.0));
            m.put("schedule_lag_max_ms", round(maxLagNs / 1e6));
            return m;
        }

        double ms(double percentile) { return round(latency.getValueAtPercentile(percentile) / 1000.0); }
    }

    static double round(double v) { return Math.round(v * 1000.0) / 1000.0; }

    static void emit(Map<String, Object> m) {
        System.out.println(Json.write(m));
        System.out.flush();
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
