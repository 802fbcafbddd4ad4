package io.ducttape.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The {@code /consumers/...} endpoints: consumer instances by group and name, each with its own KafkaConsumer. */
final class ConsumerEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerEndpoint.class);
    /** Poll timeout of a records request without ?timeout= and a consumer without consumer.request.timeout.ms. */
    static final long DEFAULT_POLL_MS = 100;
    /** Fields of a consumer creation request; the Kafka ones are passed to the KafkaConsumer. */
    private static final Set<String> CREATE_FIELDS = Set.of("name", "format", "auto.offset.reset", "enable.auto.commit",
            "auto.commit.enable", "fetch.min.bytes", "consumer.request.timeout.ms", "isolation.level");

    private final BridgeConfig config;
    private final ObjectMapper mapper;
    private final Map<String, ConsumerInstance> instances = new ConcurrentHashMap<>();

    ConsumerEndpoint(BridgeConfig config, ObjectMapper mapper) {
        this.config = config;
        this.mapper = mapper;
    }

    static HttpError unknownInstance() {
        return HttpError.notFound("The specified consumer instance was not found.");
    }

    private static String key(String group, String name) {
        return group + '\u0000' + name;
    }

    ConsumerInstance instance(String group, String name) throws HttpError {
        ConsumerInstance c = instances.get(key(group, name));
        if (c == null) {
            throw unknownInstance();
        }
        return c;
    }

    /** POST /consumers/{group}: 200 {"instance_id", "base_uri"}; 409 if the name is taken; 422 for bad options. */
    void create(Exchange ex, String group) throws IOException, HttpError {
        JsonNode body = ex.json();
        if (body == null) {
            body = mapper.createObjectNode();
        } else if (!body.isObject()) {
            throw HttpError.unprocessable("consumer: the request body must be a JSON object");
        }
        for (var it = body.fieldNames(); it.hasNext();) {
            String field = it.next();
            if (!CREATE_FIELDS.contains(field)) {
                throw HttpError.unprocessable("unknown consumer configuration option '" + field + "' (known: "
                        + String.join(", ", new TreeSet<>(CREATE_FIELDS)) + ")");
            }
        }
        String name = text(body, "name");
        if (name == null) {
            name = config.bridgeId + "-consumer-" + UUID.randomUUID();
        } else if (name.isEmpty() || name.contains("/")) {
            throw HttpError.unprocessable("consumer name must be a non-empty string without '/'");
        }
        String formatName = text(body, "format");
        EmbeddedFormat format = formatName == null ? EmbeddedFormat.BINARY : EmbeddedFormat.ofName(formatName);
        if (format == null) {
            throw HttpError.unprocessable("format must be json or binary, not '" + formatName + "'");
        }
        if (instances.containsKey(key(group, name))) {
            throw conflict();
        }

        Map<String, Object> props = new HashMap<>(config.consumer);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        props.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, name);
        String reset = text(body, "auto.offset.reset");
        if (reset != null) {
            if (!Set.of("earliest", "latest", "none").contains(reset)) {
                throw HttpError.unprocessable("auto.offset.reset must be earliest, latest or none, not '" + reset + "'");
            }
            props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, reset);
        }
        String autoCommit = text(body, "enable.auto.commit", "auto.commit.enable");
        if (autoCommit != null) {
            if (!autoCommit.equals("true") && !autoCommit.equals("false")) {
                throw HttpError.unprocessable("enable.auto.commit must be true or false, not '" + autoCommit + "'");
            }
            props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, autoCommit);
        }
        Long fetchMinBytes = number(body, "fetch.min.bytes");
        if (fetchMinBytes != null) {
            props.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, String.valueOf(fetchMinBytes));
        }
        Long requestTimeout = number(body, "consumer.request.timeout.ms");
        if (requestTimeout != null) {
            props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(requestTimeout));
        }
        String isolation = text(body, "isolation.level");
        if (isolation != null) {
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        }
        KafkaConsumer<byte[], byte[]> consumer;
        try {
            consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        } catch (KafkaException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw HttpError.unprocessable("invalid consumer configuration: " + cause.getMessage());
        }
        long pollMs = requestTimeout != null ? requestTimeout : DEFAULT_POLL_MS;
        ConsumerInstance instance = new ConsumerInstance(group, name, format, pollMs, consumer);
        if (instances.putIfAbsent(key(group, name), instance) != null) {
            instance.close();
            throw conflict();
        }
        LOG.info("created consumer {} in group {} (format {})", name, group, format.name);
        String host = ex.header("Host");
        if (host == null || host.isBlank()) {
            host = config.httpHost + ":" + config.httpPort;
        }
        ObjectNode created = mapper.createObjectNode();
        created.put("instance_id", name);
        created.put("base_uri", "http://" + host + "/consumers/" + group + "/instances/" + name);
        ex.sendJson(200, ContentTypes.KAFKA_V2, created);
    }

    private static HttpError conflict() {
        return new HttpError(409, "A consumer instance with the specified name already exists in the Kafka Bridge.");
    }

    /** DELETE /consumers/{group}/instances/{name}: 204, the KafkaConsumer closed (leaving its group). */
    void delete(Exchange ex, String group, String name) throws IOException, HttpError {
        ConsumerInstance c = instances.remove(key(group, name));
        if (c == null) {
            throw unknownInstance();
        }
        c.close();
        LOG.info("deleted consumer {} of group {}", name, group);
        ex.sendNoContent();
    }

    /** POST .../subscription {"topics": [...]} or {"topic_pattern": "regex"}: 204. */
    void subscribe(Exchange ex, ConsumerInstance c) throws IOException, HttpError {
        JsonNode body = ex.jsonObject("subscription");
        JsonNode topics = body.get("topics");
        JsonNode pattern = body.get("topic_pattern");
        if ((topics == null) == (pattern == null)) {
            throw HttpError.unprocessable("give either \"topics\" (a list) or \"topic_pattern\" (a regular expression)");
        }
        if (topics != null) {
            List<String> list = strings(topics, "topics");
            c.use(k -> {
                requireNotAssigned(k);
                k.subscribe(list);
                return null;
            });
        } else {
            Pattern p;
            try {
                p = Pattern.compile(pattern.asText());
            } catch (PatternSyntaxException e) {
                throw HttpError.unprocessable("topic_pattern is not a regular expression: " + e.getDescription());
            }
            c.use(k -> {
                requireNotAssigned(k);
                k.subscribe(p);
                return null;
            });
        }
        ex.sendNoContent();
    }

    private static void requireNotAssigned(KafkaConsumer<byte[], byte[]> k) throws HttpError {
        if (k.subscription().isEmpty() && !k.assignment().isEmpty()) {
            throw new HttpError(409, "Subscriptions to topics, partitions, and patterns are mutually exclusive.");
        }
    }

    /** DELETE .../subscription: 204. */
    void unsubscribe(Exchange ex, ConsumerInstance c) throws IOException, HttpError {
        c.use(k -> {
            k.unsubscribe();
            return null;
        });
        ex.sendNoContent();
    }

    /** GET .../subscription: {"topics": [...], "partitions": [{"topic": [p, ...]}, ...]}. */
    void subscription(Exchange ex, ConsumerInstance c) throws IOException, HttpError {
        ObjectNode out = mapper.createObjectNode();
        c.use(k -> {
            ArrayNode topics = out.putArray("topics");
            new TreeSet<>(k.subscription()).forEach(topics::add);
            Map<String, List<Integer>> byTopic = new TreeMap<>();
            for (TopicPartition tp : k.assignment()) {
                byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
            }
            ArrayNode partitions = out.putArray("partitions");
            byTopic.forEach((t, ps) -> {
                ArrayNode list = partitions.addObject().putArray(t);
                ps.stream().sorted().forEach(list::add);
            });
            return null;
        });
        ex.sendJson(200, ContentTypes.KAFKA_V2, out);
    }

    /** POST .../assignments {"partitions": [{"topic", "partition"}, ...]}: 204. */
    void assign(Exchange ex, ConsumerInstance c) throws IOException, HttpError {
        List<TopicPartition> partitions = partitions(ex.jsonObject("assignments"));
        c.use(k -> {
            if (!k.subscription().isEmpty()) {
                throw new HttpError(409, "Subscriptions to topics, partitions, and patterns are mutually exclusive.");
            }
            k.assign(partitions);
            return null;
        });
        ex.sendNoContent();
    }

    /** POST .../positions {"offsets": [{"topic", "partition", "offset"}]}: 204. */
    void seek(Exchange ex, ConsumerInstance c) throws IOException, HttpError {
        Map<TopicPartition, Long> offsets = offsets(ex.jsonObject("positions"));
        c.use(k -> {
            try {
                offsets.forEach(k::seek);
            } catch (IllegalStateException | IllegalArgumentException e) {
                throw HttpError.notFound(e.getMessage());
            }
            return null;
        });
        ex.sendNoContent();
    }

    /** POST .../positions/beginning or /end {"partitions": [...]}: 204. */
    void seekTo(Exchange ex, ConsumerInstance c, boolean beginning) throws IOException, HttpError {
        List<TopicPartition> partitions = partitions(ex.jsonObject("positions"));
        c.use(k -> {
            try {
                if (beginning) {
                    k.seekToBeginning(partitions);
                } else {
                    k.seekToEnd(partitions);
                }
            } catch (IllegalStateException e) {
                throw HttpError.notFound(e.getMessage());
            }
            return null;
        });
        ex.sendNoContent();
    }

    /** GET .../records?timeout=ms&max_bytes=n: 200 [{"topic", "key", "value", "partition", "offset"}, ...]. */
    void records(Exchange ex, ConsumerInstance c) throws IOException, HttpError {
        String accept = ContentTypes.base(ex.header("Accept"));
        if (!accept.isEmpty() && !accept.equals("*/*") && !accept.equals(c.format.contentType)) {
            throw new HttpError(406, "The `format` used in the consumer creation request does not match the embedded "
                    + "format in the Accept header of this request.");
        }
        long timeout = ex.queryLong("timeout", c.defaultPollMs);
        long maxBytes = ex.queryLong("max_bytes", Long.MAX_VALUE);
        ConsumerRecords<byte[], byte[]> records = c.poll(k -> {
            try {
                return k.poll(Duration.ofMillis(timeout));
            } catch (IllegalStateException e) {
                throw new HttpError(500, e.getMessage());
            } catch (KafkaException e) {
                if (e instanceof org.apache.kafka.common.errors.WakeupException) {
                    throw e;
                }
                LOG.error("poll of consumer {} in group {} failed", c.name, c.group, e);
                throw new HttpError(500, e.getMessage());
            }
        });
        long bytes = 0;
        ArrayNode out = mapper.createArrayNode();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            bytes += Math.max(0, r.serializedKeySize()) + Math.max(0, r.serializedValueSize());
            String where = "record " + r.topic() + "-" + r.partition() + "@" + r.offset();
            ObjectNode o = out.addObject();
            o.put("topic", r.topic());
            o.set("key", c.format.decode(r.key(), mapper, where + " key"));
            o.set("value", c.format.decode(r.value(), mapper, where + " value"));
            o.put("partition", r.partition());
            o.put("offset", r.offset());
            o.put("timestamp", r.timestamp());
        }
        if (bytes > maxBytes) {
            throw HttpError.unprocessable("Response exceeds the maximum number of bytes the consumer can receive");
        }
        ex.sendJson(200, c.format.contentType, out);
    }

    /** POST .../offsets: an empty body commits what the last polls returned; else {"offsets": [...]}. 204. */
    void commit(Exchange ex, ConsumerInstance c) throws IOException, HttpError {
        JsonNode body = ex.json();
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        if (body != null) {
            if (!body.isObject()) {
                throw HttpError.unprocessable("offsets: the request body must be a JSON object");
            }
            offsets(body).forEach((tp, o) -> offsets.put(tp, new OffsetAndMetadata(o)));
        }
        c.use(k -> {
            try {
                if (offsets.isEmpty()) {
                    k.commitSync();
                } else {
                    k.commitSync(offsets);
                }
            } catch (KafkaException e) {
                if (e instanceof org.apache.kafka.common.errors.WakeupException) {
                    throw e;
                }
                LOG.error("commit of consumer {} in group {} failed", c.name, c.group, e);
                throw new HttpError(500, e.getMessage());
            }
            return null;
        });
        ex.sendNoContent();
    }

    /** Deletes consumers that no request used for ``idleSeconds``, as Strimzi's http.timeoutSeconds does. */
    void expireIdle(long idleSeconds) {
        long nanos = TimeUnit.SECONDS.toNanos(idleSeconds);
        instances.forEach((key, c) -> {
            if (c.idleFor(nanos) && instances.remove(key, c)) {
                LOG.warn("consumer {} of group {} unused for more than {}s: deleted", c.name, c.group, idleSeconds);
                c.close();
            }
        });
    }

    @Override
    public void close() {
        for (String key : new ArrayList<>(instances.keySet())) {
            ConsumerInstance c = instances.remove(key);
            if (c != null) {
                c.close();
            }
        }
    }

    // -- request fields ------------------------------------------------------------------------

    /** A field given as a string, number or boolean, as text; null when absent. */
    private static String text(JsonNode body, String... names) throws HttpError {
        for (String name : names) {
            JsonNode v = body.get(name);
            if (v != null && !v.isNull()) {
                if (!v.isValueNode()) {
                    throw HttpError.unprocessable(name + " must be a string, number or boolean");
                }
                return v.asText();
            }
        }
        return null;
    }

    private static Long number(JsonNode body, String name) throws HttpError {
        String v = text(body, name);
        if (v == null) {
            return null;
        }
        try {
            long n = Long.parseLong(v);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw HttpError.unprocessable(name + " must be a non-negative integer, not '" + v + "'");
    }

    private static List<String> strings(JsonNode list, String name) throws HttpError {
        if (!list.isArray() || list.isEmpty()) {
            throw HttpError.unprocessable(name + " must be a non-empty list of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode n : list) {
            if (!n.isTextual() || n.textValue().isEmpty()) {
                throw HttpError.unprocessable(name + " must be a non-empty list of strings");
            }
            out.add(n.textValue());
        }
        return out;
    }

    private static List<TopicPartition> partitions(JsonNode body) throws HttpError {
        JsonNode list = body.get("partitions");
        if (list == null || !list.isArray()) {
            throw HttpError.unprocessable("expected {\"partitions\": [{\"topic\": ..., \"partition\": ...}, ...]}");
        }
        List<TopicPartition> out = new ArrayList<>();
        for (JsonNode p : list) {
            out.add(topicPartition(p));
        }
        return out;
    }

    private static Map<TopicPartition, Long> offsets(JsonNode body) throws HttpError {
        JsonNode list = body.get("offsets");
        if (list == null || !list.isArray()) {
            throw HttpError.unprocessable("expected {\"offsets\": [{\"topic\", \"partition\", \"offset\"}, ...]}");
        }
        Map<TopicPartition, Long> out = new LinkedHashMap<>();
        for (JsonNode o : list) {
            JsonNode offset = o.get("offset");
            if (offset == null || !offset.isIntegralNumber() || offset.longValue() < 0) {
                throw HttpError.unprocessable("each offset needs a non-negative integer \"offset\"");
            }
            out.put(topicPartition(o), offset.longValue());
        }
        return out;
    }

    private static TopicPartition topicPartition(JsonNode o) throws HttpError {
        JsonNode topic = o.get("topic");
        JsonNode partition = o.get("partition");
        if (topic == null || !topic.isTextual() || partition == null || !partition.isIntegralNumber() || partition.intValue() < 0) {
            throw HttpError.unprocessable("each entry needs a string \"topic\" and a non-negative integer \"partition\"");
        }
        return new TopicPartition(topic.textValue(), partition.intValue());
    }
}
