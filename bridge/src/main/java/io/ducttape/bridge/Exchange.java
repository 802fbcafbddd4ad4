package io.ducttape.bridge;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** One HTTP request and its response: body as JSON, query parameters, JSON answers. */
final class Exchange {
    private final HttpExchange http;
    private final ObjectMapper mapper;
    private byte[] body;
    private Map<String, String> query;
    private boolean responded;

    Exchange(HttpExchange http, ObjectMapper mapper) {
        this.http = http;
        this.mapper = mapper;
    }

    String method() {
        return http.getRequestMethod();
    }

    String path() {
        return http.getRequestURI().getRawPath();
    }

    String header(String name) {
        return http.getRequestHeaders().getFirst(name);
    }

    boolean responded() {
        return responded;
    }

    /** A query parameter, or null. */
    String query(String name) {
        if (query == null) {
            query = new HashMap<>();
            String raw = http.getRequestURI().getRawQuery();
            if (raw != null) {
                for (String pair : raw.split("&")) {
                    int eq = pair.indexOf('=');
                    String k = eq < 0 ? pair : pair.substring(0, eq);
                    String v = eq < 0 ? "" : pair.substring(eq + 1);
                    query.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
                }
            }
        }
        return query.get(name);
    }

    /** A non-negative integer query parameter, or {@code fallback} when it is absent. */
    long queryLong(String name, long fallback) throws HttpError {
        String v = query(name);
        if (v == null || v.isEmpty()) {
            return fallback;
        }
        try {
            long n = Long.parseLong(v);
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw HttpError.unprocessable("query parameter " + name + " must be a non-negative integer, not '" + v + "'");
    }

    byte[] body() throws IOException {
        if (body == null) {
            body = http.getRequestBody().readAllBytes();
        }
        return body;
    }

    /** The request body as JSON, or null when the body is empty. */
    JsonNode json() throws IOException, HttpError {
        byte[] bytes = body();
        if (bytes.length == 0) {
            return null;
        }
        try {
            return mapper.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new HttpError(400, "request body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** The request body as a JSON object; an empty or other body is a 422. */
    JsonNode jsonObject(String what) throws IOException, HttpError {
        JsonNode node = json();
        if (node == null || !node.isObject()) {
            throw HttpError.unprocessable(what + ": the request body must be a JSON object");
        }
        return node;
    }

    void send(int status, String contentType, byte[] bytes) throws IOException {
        responded = true;
        http.getResponseHeaders().set("Content-Type", contentType);
        http.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            try (OutputStream out = http.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    void sendJson(int status, String contentType, JsonNode node) throws IOException {
        send(status, contentType, mapper.writeValueAsBytes(node));
    }

    /** 204 No Content. */
    void sendNoContent() throws IOException {
        responded = true;
        http.sendResponseHeaders(204, -1);
    }

    void sendError(int status, String message) throws IOException {
        ObjectNode error = mapper.createObjectNode();
        error.put("error_code", status);
        error.put("message", message);
        sendJson(status, ContentTypes.KAFKA_V2, error);
    }
}
