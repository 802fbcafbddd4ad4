package io.ducttape.bridge;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;

/**
 * The bridge's settings, read from the same application.properties keys as the Strimzi Kafka Bridge.
 *
 * <pre>
 * bridge.id=my-bridge                      name of this bridge (client ids, default consumer names)
 * kafka.bootstrap.servers=host:9092        kafka.X is passed as X to the producer and the consumers
 * kafka.producer.acks=1                    kafka.producer.X only to the producer
 * kafka.consumer.fetch.max.wait.ms=100     kafka.consumer.X only to the consumers
 * http.host=127.0.0.1                      where the REST API listens (default 127.0.0.1, not 0.0.0.0)
 * http.port=8080
 * http.timeoutSeconds=-1                   delete consumers idle this long (-1: never)
 * </pre>
 */
final class BridgeConfig {
    static final String DEFAULT_HOST = "127.0.0.1";
    static final int DEFAULT_PORT = 8080;

    final String bridgeId;
    final String httpHost;
    final int httpPort;
    final long consumerIdleTimeoutSeconds;
    final Map<String, Object> producer;
    final Map<String, Object> consumer;
    /** Keys the bridge does not use (kafka.admin.*, http.cors.*, ...): logged, not fatal. */
    final List<String> ignored;

    private BridgeConfig(Properties props) throws ConfigException {
        Map<String, Object> common = new HashMap<>();
        Map<String, Object> producerOnly = new HashMap<>();
        Map<String, Object> consumerOnly = new HashMap<>();
        List<String> unused = new ArrayList<>();
        for (String key : new TreeSet<>(props.stringPropertyNames())) {
            String value = props.getProperty(key).trim();
            if (key.startsWith("kafka.producer.")) {
                producerOnly.put(key.substring("kafka.producer.".length()), value);
            } else if (key.startsWith("kafka.consumer.")) {
                consumerOnly.put(key.substring("kafka.consumer.".length()), value);
            } else if (key.startsWith("kafka.admin.")) {
                unused.add(key);
            } else if (key.startsWith("kafka.")) {
                common.put(key.substring("kafka.".length()), value);
            } else if (!List.of("bridge.id", "http.host", "http.port", "http.timeoutSeconds").contains(key)) {
                unused.add(key);
            }
        }
        if (!common.containsKey("bootstrap.servers")) {
            throw new ConfigException("kafka.bootstrap.servers is required (host:port of the brokers)");
        }
        this.bridgeId = props.getProperty("bridge.id", "ducttape-bridge").trim();
        this.httpHost = props.getProperty("http.host", DEFAULT_HOST).trim();
        this.httpPort = (int) number(props, "http.port", DEFAULT_PORT, 0, 65535);
        this.consumerIdleTimeoutSeconds = number(props, "http.timeoutSeconds", -1, -1, Long.MAX_VALUE);
        Map<String, Object> p = new HashMap<>(common);
        p.putAll(producerOnly);
        Map<String, Object> c = new HashMap<>(common);
        c.putAll(consumerOnly);
        this.producer = Collections.unmodifiableMap(p);
        this.consumer = Collections.unmodifiableMap(c);
        this.ignored = Collections.unmodifiableList(unused);
    }

    /** Reads a properties file; a missing or unreadable file or a bad value is a ConfigException. */
    static BridgeConfig load(Path file) throws ConfigException {
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(in);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file + ": no such configuration file");
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        return new BridgeConfig(props);
    }

    private static long number(Properties props, String key, long fallback, long min, long max) throws ConfigException {
        String v = props.getProperty(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConfigException(key + " must be a number from " + min + " to " + max + ", not '" + v.trim() + "'");
    }

    /** A bad configuration: the message is one line saying which key and why. */
    static final class ConfigException extends Exception {
        private static final long serialVersionUID = 1L;

        ConfigException(String message) {
            super(message);
        }
    }
}
