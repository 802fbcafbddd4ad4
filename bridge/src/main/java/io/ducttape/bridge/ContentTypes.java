package io.ducttape.bridge;

/** Media types of the Strimzi Kafka Bridge v2 API. */
final class ContentTypes {
    /** Requests and responses that carry no records (consumer creation, offsets, errors). */
    static final String KAFKA_V2 = "application/vnd.kafka.v2+json";
    /** Records whose keys and values are JSON values. */
    static final String KAFKA_JSON = "application/vnd.kafka.json.v2+json";
    /** Records whose keys and values are base64 strings of raw bytes. */
    static final String KAFKA_BINARY = "application/vnd.kafka.binary.v2+json";
    static final String JSON = "application/json";

    private ContentTypes() {
    }

    /** The media type of a Content-Type or Accept value without parameters, lower case; "" for null. */
    static String base(String header) {
        if (header == null) {
            return "";
        }
        int semi = header.indexOf(';');
        return (semi < 0 ? header : header.substring(0, semi)).trim().toLowerCase(java.util.Locale.ROOT);
    }
}
