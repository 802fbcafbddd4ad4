package io.ducttape.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code POST /topics/{topic}} and {@code POST /topics/{topic}/partitions/{partition}}: sends the records
 * of the request through one KafkaProducer shared by all requests, then answers with one
 * {"partition", "offset"} or {"error_code", "message"} per record, in the order of the request.
 */
final class ProducerEndpoint implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProducerEndpoint.class);

    private final KafkaProducer<byte[], byte[]> producer;
    private final ObjectMapper mapper;
    /** How long to wait for all acknowledgements; the producer itself gives up before that. */
    private final long ackWaitMs;

    ProducerEndpoint(BridgeConfig config, ObjectMapper mapper) {
        Map<String, Object> props = new HashMap<>(config.producer);
        props.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, config.bridgeId + "-producer");
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        this.mapper = mapper;
        long delivery = Long.parseLong(String.valueOf(props.getOrDefault(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000")));
        long block = Long.parseLong(String.valueOf(props.getOrDefault(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000")));
        this.ackWaitMs = delivery + block + 5000;
    }

    void send(Exchange ex, String topic, String partitionInPath) throws IOException, HttpError, InterruptedException {
        EmbeddedFormat format = EmbeddedFormat.ofContentType(ex.header("Content-Type"));
        if (format == null) {
            throw new HttpError(415, "Content-Type must be " + ContentTypes.KAFKA_JSON + " or " + ContentTypes.KAFKA_BINARY
                    + ", not '" + ex.header("Content-Type") + "'");
        }
        Integer partition = null;
        if (partitionInPath != null) {
            try {
                partition = Integer.valueOf(partitionInPath);
            } catch (NumberFormatException e) {
                throw HttpError.unprocessable("Specified partition is not a valid number");
            }
        }
        List<ProducerRecord<byte[], byte[]>> records = parse(ex.jsonObject("records"), topic, partition, format);
        boolean async = "true".equals(ex.query("async"));

        List<CompletableFuture<RecordMetadata>> acks = new ArrayList<>(records.size());
        Exception metadataError = null;
        int partitions = 0;
        try {
            // Fetch the topic's metadata once: a missing topic or an unreachable cluster then costs one
            // max.block.ms for the request instead of one per record.
            partitions = producer.partitionsFor(topic).size();
        } catch (RuntimeException e) {
            metadataError = e;
        }
        for (ProducerRecord<byte[], byte[]> record : records) {
            CompletableFuture<RecordMetadata> ack = new CompletableFuture<>();
            acks.add(ack);
            if (metadataError != null) {
                ack.completeExceptionally(metadataError);
                continue;
            }
            if (record.partition() != null && record.partition() >= partitions) {
                // The producer would wait max.block.ms for the partition to appear; fail it now.
                ack.completeExceptionally(new IllegalArgumentException("Invalid partition given with record: "
                        + record.partition() + " is not in the range [0..." + partitions + ")."));
                continue;
            }
            try {
                producer.send(record, (metadata, error) -> {
                    if (error == null) {
                        ack.complete(metadata);
                    } else {
                        ack.completeExceptionally(error);
                    }
                });
            } catch (RuntimeException e) {
                ack.completeExceptionally(e);
            }
        }
        if (async) {
            ex.sendNoContent();
            return;
        }
        try {
            CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0])).get(ackWaitMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            // some records failed: each gets its own error below
        } catch (java.util.concurrent.TimeoutException e) {
            // answered below with an error for each record still unacknowledged
        }
        ObjectNode response = mapper.createObjectNode();
        ArrayNode offsets = response.putArray("offsets");
        int failed = 0;
        String firstError = null;
        for (CompletableFuture<RecordMetadata> ack : acks) {
            ObjectNode entry = offsets.addObject();
            try {
                RecordMetadata md = ack.getNow(null);
                if (md == null) {
                    throw new ExecutionException(new TimeoutException("no acknowledgement from Kafka within " + ackWaitMs + " ms"));
                }
                entry.put("partition", md.partition());
                entry.put("offset", md.offset());
            } catch (ExecutionException | java.util.concurrent.CompletionException e) {
                Throwable cause = e.getCause() != null ? e.getCause() : e;
                String message = String.valueOf(cause.getMessage());
                entry.put("error_code", errorCode(cause));
                entry.put("message", message);
                failed++;
                if (firstError == null) {
                    firstError = message;
                }
            }
        }
        if (failed > 0) {
            LOG.error("POST /topics/{}: {} of {} records failed; first error: {}", topic, failed, records.size(), firstError);
        }
        // Like Strimzi: 200 in any case, the outcome of each record is in its entry.
        ex.sendJson(200, ContentTypes.KAFKA_V2, response);
    }

    /** Strimzi's codes: a topic missing from the metadata or a bad partition is 404, anything else 500. */
    private static int errorCode(Throwable error) {
        String message = String.valueOf(error.getMessage());
        if (error instanceof TimeoutException && message.contains("not present in metadata")) {
            return 404;
        }
        if (message.contains("Invalid partition")) {
            return 404;
        }
        return 500;
    }

    private List<ProducerRecord<byte[], byte[]>> parse(JsonNode body, String topic, Integer partition, EmbeddedFormat format)
            throws HttpError {
        JsonNode list = body.get("records");
        if (list == null || !list.isArray()) {
            throw HttpError.unprocessable("The record list is not valid: expected {\"records\": [...]}");
        }
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(list.size());
        int i = 0;
        for (JsonNode r : list) {
            String where = "records[" + i++ + "]";
            if (!r.isObject()) {
                throw HttpError.unprocessable("The record list is not valid: " + where + " is not an object");
            }
            Integer p = partition;
            JsonNode pNode = r.get("partition");
            if (pNode != null && !pNode.isNull()) {
                if (partition != null) {
                    throw HttpError.unprocessable(where + ": partition is given by the path already");
                }
                if (!pNode.canConvertToInt() || !pNode.isIntegralNumber() || pNode.intValue() < 0) {
                    throw HttpError.unprocessable(where + ".partition must be a non-negative integer");
                }
                p = pNode.intValue();
            }
            Long timestamp = null;
            JsonNode tNode = r.get("timestamp");
            if (tNode != null && !tNode.isNull()) {
                if (!tNode.isIntegralNumber()) {
                    throw HttpError.unprocessable(where + ".timestamp must be milliseconds since the epoch");
                }
                timestamp = tNode.longValue();
            }
            byte[] key = format.encode(r.get("key"), mapper, where + ".key");
            byte[] value = format.encode(r.get("value"), mapper, where + ".value");
            records.add(new ProducerRecord<>(topic, p, timestamp, key, value, headers(r.get("headers"), where)));
        }
        return records;
    }

    /** Record headers: [{"key": "name", "value": "<base64>"}, ...] as in the Strimzi API. */
    private static List<Header> headers(JsonNode node, String where) throws HttpError {
        List<Header> headers = new ArrayList<>();
        if (node == null || node.isNull()) {
            return headers;
        }
        if (!node.isArray()) {
            throw HttpError.unprocessable(where + ".headers must be a list of {\"key\", \"value\"}");
        }
        for (JsonNode h : node) {
            JsonNode k = h.get("key");
            JsonNode v = h.get("value");
            if (k == null || !k.isTextual()) {
                throw HttpError.unprocessable(where + ".headers: each header needs a string key");
            }
            byte[] value = null;
            if (v != null && !v.isNull()) {
                try {
                    value = Base64.getDecoder().decode(v.asText());
                } catch (IllegalArgumentException e) {
                    throw HttpError.unprocessable(where + ".headers: value of '" + k.textValue() + "' is not base64");
                }
            }
            headers.add(new RecordHeader(k.textValue(), value));
        }
        return headers;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
