package io.ducttape.bridge;

import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;

/** One consumer created through the REST API: its KafkaConsumer, used by one request at a time. */
final class ConsumerInstance {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumerInstance.class);

    final String group;
    final String name;
    final EmbeddedFormat format;
    /** Poll timeout for a records request without ?timeout=. */
    final long defaultPollMs;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile boolean closed;
    private volatile boolean polling;
    private volatile long lastUsedNanos = System.nanoTime();

    ConsumerInstance(String group, String name, EmbeddedFormat format, long defaultPollMs, KafkaConsumer<byte[], byte[]> consumer) {
        this.group = group;
        this.name = name;
        this.format = format;
        this.defaultPollMs = defaultPollMs;
        this.consumer = consumer;
    }

    /** Something to do with the KafkaConsumer while holding its lock. */
    interface Action<T> {
        T run(KafkaConsumer<byte[], byte[]> consumer) throws HttpError;
    }

    /** Runs ``action`` with the consumer, after any other request on it; 404 once the instance is deleted. */
    <T> T use(Action<T> action) throws HttpError {
        lock.lock();
        try {
            if (closed) {
                throw ConsumerEndpoint.unknownInstance();
            }
            lastUsedNanos = System.nanoTime();
            return action.run(consumer);
        } catch (WakeupException e) {
            throw ConsumerEndpoint.unknownInstance(); // deleted while it waited for records
        } finally {
            lastUsedNanos = System.nanoTime();
            lock.unlock();
        }
    }

    /** Like {@link #use} for a poll, which {@link #close} may cut short. */
    <T> T poll(Action<T> action) throws HttpError {
        return use(c -> {
            polling = true;
            try {
                return action.run(c);
            } finally {
                polling = false;
            }
        });
    }

    /** True when no request has used the consumer for ``nanos`` and none is using it now. */
    boolean idleFor(long nanos) {
        return !lock.isLocked() && System.nanoTime() - lastUsedNanos > nanos;
    }

    /** Closes the KafkaConsumer (a poll in progress ends at once); later requests get 404. */
    void close() {
        if (polling) {
            consumer.wakeup();
        }
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            consumer.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOG.error("closing consumer {} of group {} failed", name, group, e);
        } finally {
            lock.unlock();
        }
    }
}
