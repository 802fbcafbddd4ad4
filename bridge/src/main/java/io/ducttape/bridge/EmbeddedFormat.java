package io.ducttape.bridge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.io.IOException;
import java.util.Base64;

/** How record keys and values are embedded in JSON: as JSON values, or as base64 of their bytes. */
enum EmbeddedFormat {
    JSON("json", ContentTypes.KAFKA_JSON),
    BINARY("binary", ContentTypes.KAFKA_BINARY);

    final String name;
    final String contentType;

    EmbeddedFormat(String name, String contentType) {
        this.name = name;
        this.contentType = contentType;
    }

    /** The format a produce request's Content-Type names, or null. */
    static EmbeddedFormat ofContentType(String header) {
        String type = ContentTypes.base(header);
        for (EmbeddedFormat f : values()) {
            if (f.contentType.equals(type)) {
                return f;
            }
        }
        return null;
    }

    /** The format a consumer's "format" field names, or null. */
    static EmbeddedFormat ofName(String name) {
        for (EmbeddedFormat f : values()) {
            if (f.name.equals(name)) {
                return f;
            }
        }
        return null;
    }

    /** The bytes to send for a key or value given in a produce request (null for absent or JSON null). */
    byte[] encode(JsonNode node, ObjectMapper mapper, String what) throws HttpError {
        if (node == null || node.isNull() || node.isMissingNode()) {
            return null;
        }
        if (this == JSON) {
            try {
                return mapper.writeValueAsBytes(node);
            } catch (JsonProcessingException e) {
                throw HttpError.unprocessable(what + " cannot be written as JSON: " + e.getOriginalMessage());
            }
        }
        if (!node.isTextual()) {
            throw HttpError.unprocessable(what + " must be a base64 string in the binary format");
        }
        try {
            return Base64.getDecoder().decode(node.textValue());
        } catch (IllegalArgumentException e) {
            throw HttpError.unprocessable(what + " is not valid base64: " + e.getMessage());
        }
    }

    /** The JSON form of a consumed key or value (JSON null for a null one). */
    JsonNode decode(byte[] bytes, ObjectMapper mapper, String where) throws HttpError {
        if (bytes == null) {
            return NullNode.getInstance();
        }
        if (this == BINARY) {
            return new TextNode(Base64.getEncoder().encodeToString(bytes));
        }
        try {
            JsonNode node = mapper.readTree(bytes);
            return node == null || node.isMissingNode() ? NullNode.getInstance() : node;
        } catch (IOException e) {
            throw new HttpError(406, where + " is not JSON; create the consumer with \"format\": \"binary\" to read it");
        }
    }
}
