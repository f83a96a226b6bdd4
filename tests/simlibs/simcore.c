/* simcore: see simcore.h. Written for our tests; no vendor code. */
#define _GNU_SOURCE
#include "simcore.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SIM_MAX_PORTS 64
#define SIM_MAX_CHANNELS 32

typedef struct sim_port {
    int used;
    int channel;
    int on_bus;
    int echo;
    int overrun;
    sim_accept_fn accept;
    void *accept_ctx;
    sim_frame *queue;
    int capacity, head, count;
    int pipe_r, pipe_w; /* readable while count > 0 */
    unsigned generation; /* bumped on close, so waiters of a reused slot notice */
} sim_port;

typedef struct sim_channel {
    int state, tx_errors, rx_errors;
} sim_channel;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t arrived = PTHREAD_COND_INITIALIZER;
static sim_port ports[SIM_MAX_PORTS];
static sim_channel channels[SIM_MAX_CHANNELS];
static struct timespec epoch;
static int epoch_set;

static uint64_t now_us_locked(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!epoch_set) {
        epoch = now;
        epoch_set = 1;
    }
    return (uint64_t)(now.tv_sec - epoch.tv_sec) * 1000000u +
           (uint64_t)((now.tv_nsec - epoch.tv_nsec) / 1000);
}

uint64_t sim_now_us(void) {
    pthread_mutex_lock(&lock);
    uint64_t now = now_us_locked();
    pthread_mutex_unlock(&lock);
    return now;
}

int sim_channel_count(void) {
    const char *text = getenv("SIMCAN_CHANNELS");
    int n = text ? atoi(text) : 4;
    if (n < 1) n = 1;
    if (n > SIM_MAX_CHANNELS) n = SIM_MAX_CHANNELS;
    return n;
}

static sim_port *port_of(int port) {
    if (port < 0 || port >= SIM_MAX_PORTS || !ports[port].used) return NULL;
    return &ports[port];
}

int sim_port_open(int channel, int queue_capacity) {
    if (channel < 0 || channel >= sim_channel_count()) return SIM_EBADCHAN;
    if (queue_capacity < 1) return SIM_EARG;
    pthread_mutex_lock(&lock);
    now_us_locked();
    int found = SIM_ENOPORTS;
    for (int i = 0; i < SIM_MAX_PORTS; i++) {
        if (ports[i].used) continue;
        sim_port *p = &ports[i];
        int fds[2];
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) break;
        sim_frame *queue = calloc((size_t)queue_capacity, sizeof(sim_frame));
        if (!queue) {
            close(fds[0]);
            close(fds[1]);
            break;
        }
        unsigned generation = p->generation;
        memset(p, 0, sizeof *p);
        p->generation = generation;
        p->used = 1;
        p->channel = channel;
        p->on_bus = 1;
        p->queue = queue;
        p->capacity = queue_capacity;
        p->pipe_r = fds[0];
        p->pipe_w = fds[1];
        found = i;
        break;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

int sim_port_close(int port) {
    pthread_mutex_lock(&lock);
    sim_port *p = port_of(port);
    if (!p) {
        pthread_mutex_unlock(&lock);
        return SIM_EBADPORT;
    }
    free(p->queue);
    close(p->pipe_r);
    close(p->pipe_w);
    p->queue = NULL;
    p->used = 0;
    p->generation++;
    pthread_cond_broadcast(&arrived);
    pthread_mutex_unlock(&lock);
    return SIM_OK;
}

#define WITH_PORT(port, body)                 \
    do {                                      \
        pthread_mutex_lock(&lock);            \
        sim_port *p = port_of(port);          \
        int result = SIM_EBADPORT;            \
        if (p) {                              \
            body                              \
        }                                     \
        pthread_mutex_unlock(&lock);          \
        return result;                        \
    } while (0)

int sim_port_channel(int port) { WITH_PORT(port, result = p->channel;); }
int sim_port_set_on_bus(int port, int on) { WITH_PORT(port, p->on_bus = on != 0; result = SIM_OK;); }
int sim_port_set_echo(int port, int on) { WITH_PORT(port, p->echo = on != 0; result = SIM_OK;); }
int sim_port_set_accept(int port, sim_accept_fn accept, void *ctx) {
    WITH_PORT(port, p->accept = accept; p->accept_ctx = ctx; result = SIM_OK;);
}
int sim_port_pending(int port) { WITH_PORT(port, result = p->count;); }
int sim_port_fd(int port) { WITH_PORT(port, result = p->pipe_r;); }
int sim_port_overrun(int port, int clear) {
    WITH_PORT(port, result = p->overrun; if (clear) p->overrun = 0;);
}

static void drain_signal(sim_port *p) {
    char buf[16];
    while (read(p->pipe_r, buf, sizeof buf) > 0) {
    }
}

int sim_port_clear(int port) {
    WITH_PORT(port, p->head = 0; p->count = 0; drain_signal(p); result = SIM_OK;);
}

/* Queue a copy of frame on p (lock held). */
static void deliver(sim_port *p, const sim_frame *frame) {
    if (p->accept && !(frame->flags & SIM_ECHO) && !p->accept(frame, p->accept_ctx)) return;
    if (p->count == p->capacity) {
        p->overrun = 1;
        return;
    }
    p->queue[(p->head + p->count) % p->capacity] = *frame;
    if (p->count++ == 0) {
        char one = 1;
        ssize_t ignored = write(p->pipe_w, &one, 1);
        (void)ignored;
    }
}

static int valid_length(const sim_frame *frame) {
    if (frame->flags & SIM_FD) return frame->len <= 64;
    return frame->len <= 8;
}

/* Put frame on channel from sender (-1: another node); lock held. */
static void broadcast(int channel, int sender, sim_frame *frame) {
    frame->time_us = now_us_locked();
    for (int i = 0; i < SIM_MAX_PORTS; i++) {
        sim_port *q = &ports[i];
        if (!q->used || q->channel != channel || !q->on_bus) continue;
        if (i == sender) {
            if (!q->echo) continue;
            sim_frame echo = *frame;
            echo.flags |= SIM_ECHO;
            deliver(q, &echo);
        } else {
            deliver(q, frame);
        }
    }
    pthread_cond_broadcast(&arrived);
}

int sim_port_send(int port, const sim_frame *frame) {
    if (!frame || !valid_length(frame)) return SIM_EARG;
    pthread_mutex_lock(&lock);
    sim_port *p = port_of(port);
    int result = SIM_EBADPORT;
    if (p) {
        if (!p->on_bus) {
            result = SIM_EOFFBUS;
        } else if (channels[p->channel].state == SIM_BUSOFF) {
            result = SIM_EBUSOFF;
        } else {
            sim_frame copy = *frame;
            copy.flags &= ~SIM_ECHO;
            broadcast(p->channel, port, &copy);
            result = SIM_OK;
        }
    }
    pthread_mutex_unlock(&lock);
    return result;
}

int sim_port_recv(int port, sim_frame *frame, int timeout_ms) {
    if (!frame) return SIM_EARG;
    struct timespec deadline = {0, 0};
    /* Only a timed wait needs the clock (a clock read costs a system call on some VMs, and
     * a polling reader asks with timeout 0 for every frame). */
    if (timeout_ms > 0) {
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&lock);
    sim_port *p = port_of(port);
    if (!p) {
        pthread_mutex_unlock(&lock);
        return SIM_EBADPORT;
    }
    unsigned generation = p->generation;
    int result = 0;
    for (;;) {
        if (!p->used || p->generation != generation) {
            result = SIM_EBADPORT;
            break;
        }
        if (p->count > 0) {
            *frame = p->queue[p->head];
            p->head = (p->head + 1) % p->capacity;
            if (--p->count == 0) drain_signal(p);
            result = 1;
            break;
        }
        if (timeout_ms == 0) break;
        int rc = timeout_ms < 0 ? pthread_cond_wait(&arrived, &lock)
                                : pthread_cond_timedwait(&arrived, &lock, &deadline);
        if (rc == ETIMEDOUT) {
            /* One last look: a frame may have come with the timeout. */
            if (p->used && p->generation == generation && p->count > 0) continue;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return result;
}

int sim_channel_state(int channel, int *state, int *tx_errors, int *rx_errors) {
    if (channel < 0 || channel >= sim_channel_count()) return SIM_EBADCHAN;
    pthread_mutex_lock(&lock);
    if (state) *state = channels[channel].state;
    if (tx_errors) *tx_errors = channels[channel].tx_errors;
    if (rx_errors) *rx_errors = channels[channel].rx_errors;
    pthread_mutex_unlock(&lock);
    return SIM_OK;
}

int sim_channel_reset(int channel) { return simctl_set_state(channel, SIM_ACTIVE, 0, 0); }

int simctl_set_state(int channel, int state, int tx_errors, int rx_errors) {
    if (channel < 0 || channel >= sim_channel_count()) return SIM_EBADCHAN;
    if (state < SIM_ACTIVE || state > SIM_BUSOFF) return SIM_EARG;
    pthread_mutex_lock(&lock);
    channels[channel].state = state;
    channels[channel].tx_errors = tx_errors;
    channels[channel].rx_errors = rx_errors;
    pthread_mutex_unlock(&lock);
    return SIM_OK;
}

int simctl_inject_frame(int channel, uint32_t id, uint32_t flags, const uint8_t *data, int len) {
    if (channel < 0 || channel >= sim_channel_count()) return SIM_EBADCHAN;
    sim_frame frame;
    memset(&frame, 0, sizeof frame);
    frame.id = id;
    frame.flags = flags & ~SIM_ECHO;
    if (len < 0 || len > 64) return SIM_EARG;
    frame.len = (uint8_t)len;
    if (!valid_length(&frame)) return SIM_EARG;
    if (len && data) memcpy(frame.data, data, (size_t)len);
    pthread_mutex_lock(&lock);
    broadcast(channel, -1, &frame);
    pthread_mutex_unlock(&lock);
    return SIM_OK;
}

int simctl_inject_error(int channel, uint32_t error_class, const uint8_t *data, int len) {
    return simctl_inject_frame(channel, error_class, SIM_ERR, data, len > 8 ? 8 : len);
}

int simctl_open_ports(int channel) {
    int n = 0;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SIM_MAX_PORTS; i++)
        if (ports[i].used && ports[i].channel == channel) n++;
    pthread_mutex_unlock(&lock);
    return n;
}

void simctl_reset(void) {
    for (int i = 0; i < SIM_MAX_PORTS; i++) sim_port_close(i);
    pthread_mutex_lock(&lock);
    memset(channels, 0, sizeof channels);
    pthread_mutex_unlock(&lock);
}
