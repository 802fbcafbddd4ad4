package io.ducttape.bridge;

/** A request that ends with an HTTP error status and a Strimzi-style {"error_code", "message"} body. */
final class HttpError extends Exception {
    private static final long serialVersionUID = 1L;

    final int status;

    HttpError(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    static HttpError notFound(String message) {
        return new HttpError(404, message);
    }

    static HttpError unprocessable(String message) {
        return new HttpError(422, message);
    }
}
