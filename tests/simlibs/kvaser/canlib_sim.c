/*
 * A simulated Kvaser CANlib (libcanlib.so.1) for the tests of can.interfaces.kvaser.
 *
 * It exports CANlib's C functions with the signatures, constants and status codes of Kvaser's
 * public headers (canlib.h, canstat.h; see canlib_sim.h for where they come from) and keeps its
 * frames on the shared simulated bus (simcore.c). What it models, after the header
 * documentation:
 *
 *   - canInitializeLibrary must come first (else canERR_NOTINITIALIZED);
 *   - channels 0 .. N-1 (N = SIMCAN_CHANNELS, default 4): with N >= 3 the last two are
 *     "Kvaser Virtual CAN Driver" channels that canOpenChannel finds only with
 *     canOPEN_ACCEPT_VIRTUAL (else canERR_NOTFOUND), the others a two-channel USB device;
 *   - a handle is one simcore port; it is off bus until canBusOn; canOPEN_EXCLUSIVE;
 *   - "local transmit echo" (canIOCTL_SET_LOCAL_TXECHO, on by default): a handle hears the
 *     frames other handles on its channel send; turned off, it hears only other nodes;
 *   - canIOCTL_SET_TXACK: the sender gets its own frames back flagged canMSG_TXACK;
 *   - the acceptance filter (canSetAcceptanceFilter / canAccept): one code/mask per identifier
 *     type and handle, "(id ^ code) & mask == 0" passes; error frames are never filtered;
 *   - timestamps: microseconds since the library was loaded, divided by the timer scale
 *     (canIOCTL_SET_TIMER_SCALE, default 1000 us); canReadTimer reads the same clock;
 *   - bus parameters checked against an 80 MHz controller clock (what Kvaser's CAN FD devices
 *     run on): the bit time must divide the clock; canSetBusParamsC200 reads 82c200-style
 *     BTR0/BTR1 on the 16 MHz clock canlib.h says it assumes; CAN FD parameters only on a
 *     handle opened with
 *     canOPEN_CAN_FD; an FD frame is only written on, and only delivered to, such handles;
 *   - bus-off (set by the tests through simctl): nothing is transmitted, canWrite queues up to
 *     TX_QUEUE frames (then canERR_TXBUFOFL), canWriteWait times out (canERR_TIMEOUT);
 *     canBusOn on a bus-off channel resets the controller (error active, counters 0) and the
 *     queued frames are dropped, as is canIOCTL_FLUSH_TX_BUFFER;
 *   - a full receive queue drops frames; the next canRead carries canMSGERR_SW_OVERRUN and the
 *     handle's overrun counter (canReadErrorCounters, bus statistics) counts it;
 *   - bus statistics per handle: the frames its controller saw from the bus, captured by
 *     canRequestBusStatistics and returned by canGetBusStatistics; the bus load stays 0.
 *
 * kvsim_get(channel, key) lets the tests read what the backend configured (bus parameters,
 * driver mode, LEDs). Written for our tests; no Kvaser code.
 */
#define _GNU_SOURCE
#include "canlib_sim.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simcore.h"

#define MAX_HANDLES 64
#define QUEUE_CAPACITY 4096
#define TX_QUEUE 64
#define CLOCK_HZ 80000000L
/* canlib.h on canSetBusParamsC200: "CANlib will always behave as if the clock frequency is
 * 16 MHz"; the prescaler is BTR0[5:0] + 1. */
#define C200_CLOCK_HZ 16000000L
/* Opened for CAN FD, ISO or not. */
#define IS_FD(h) (((h)->open_flags & (canOPEN_CAN_FD | canOPEN_CAN_FD_NONISO)) != 0)
/* A simcore flag bit of our own: the frame was written through a handle of this library. */
#define KV_LOCAL 0x100u

typedef struct kv_handle {
    int used;
    int channel;
    int port;
    int open_flags;
    unsigned timer_scale; /* microseconds per timestamp unit */
    int txack;
    int tx_pending;
    /* Read by the acceptance callback with simcore's lock held: atomics, no kv lock. */
    int txecho;
    int local_txack;
    unsigned std_code, std_mask, ext_code, ext_mask;
    unsigned long seen[5]; /* std data, std remote, ext data, ext remote, error frames */
    unsigned long overruns;
    canBusStatistics snapshot;
} kv_handle;

typedef struct kv_channel {
    long freq;
    unsigned tseg1, tseg2, sjw, nosamp;
    long data_freq;
    unsigned data_tseg1, data_tseg2, data_sjw;
    int btr0, btr1;
    int driver;
    int leds, led_timeout;
    int exclusive;
} kv_channel;

static pthread_mutex_t kv_lock = PTHREAD_MUTEX_INITIALIZER;
static int initialized;
static kv_handle handles[MAX_HANDLES];
static kv_channel channels[32];

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define BUMP(x) __atomic_fetch_add(&(x), 1, __ATOMIC_RELAXED)

static int is_virtual(int channel) {
    int n = sim_channel_count();
    return n >= 3 && channel >= n - 2;
}

/* The handle, or NULL; takes kv_lock on success (the caller unlocks). */
static kv_handle *lock_handle(CanHandle hnd) {
    if (hnd < 0 || hnd >= MAX_HANDLES) return NULL;
    pthread_mutex_lock(&kv_lock);
    if (!handles[hnd].used) {
        pthread_mutex_unlock(&kv_lock);
        return NULL;
    }
    return &handles[hnd];
}

/* The acceptance callback: local echo, CAN FD mode, statistics, then the filter. */
static int accept_frame(const sim_frame *frame, void *ctx) {
    kv_handle *h = ctx;
    if ((frame->flags & KV_LOCAL) && !LOAD(h->txecho)) return 0;
    if ((frame->flags & SIM_FD) && !IS_FD(h)) return 0;
    if (frame->flags & SIM_ERR) {
        BUMP(h->seen[4]);
        return 1;
    }
    int ext = (frame->flags & SIM_EXT) != 0;
    BUMP(h->seen[(ext ? 2 : 0) + ((frame->flags & SIM_RTR) ? 1 : 0)]);
    unsigned code = ext ? LOAD(h->ext_code) : LOAD(h->std_code);
    unsigned mask = ext ? LOAD(h->ext_mask) : LOAD(h->std_mask);
    return ((frame->id ^ code) & mask) == 0;
}

void canInitializeLibrary(void) {
    pthread_mutex_lock(&kv_lock);
    initialized = 1;
    pthread_mutex_unlock(&kv_lock);
}

canStatus canUnloadLibrary(void) { return canOK; }

canStatus canGetNumberOfChannels(int *channelCount) {
    if (!initialized) return canERR_NOTINITIALIZED;
    if (!channelCount) return canERR_PARAM;
    *channelCount = sim_channel_count();
    return canOK;
}

CanHandle canOpenChannel(int channel, int flags) {
    if (!initialized) return canERR_NOTINITIALIZED;
    if (channel < 0 || channel >= sim_channel_count()) return canERR_NOTFOUND;
    if (is_virtual(channel) && !(flags & canOPEN_ACCEPT_VIRTUAL)) return canERR_NOTFOUND;
    pthread_mutex_lock(&kv_lock);
    int busy = 0;
    for (int i = 0; i < MAX_HANDLES; i++)
        if (handles[i].used && handles[i].channel == channel) busy = 1;
    if (channels[channel].exclusive || (busy && (flags & canOPEN_EXCLUSIVE))) {
        pthread_mutex_unlock(&kv_lock);
        return canERR_NOCHANNELS;
    }
    int hnd = canERR_NOHANDLES;
    for (int i = 0; i < MAX_HANDLES; i++) {
        if (handles[i].used) continue;
        int port = sim_port_open(channel, QUEUE_CAPACITY);
        if (port < 0) {
            hnd = canERR_NOMEM;
            break;
        }
        kv_handle *h = &handles[i];
        memset(h, 0, sizeof *h);
        h->used = 1;
        h->channel = channel;
        h->port = port;
        h->open_flags = flags;
        h->timer_scale = 1000;
        h->txecho = 1;
        sim_port_set_on_bus(port, 0);
        sim_port_set_accept(port, accept_frame, h);
        if (flags & canOPEN_EXCLUSIVE) channels[channel].exclusive = 1;
        if (!busy) {
            channels[channel].driver = canDRIVER_NORMAL;
            channels[channel].leds = -1;
        }
        hnd = i;
        break;
    }
    pthread_mutex_unlock(&kv_lock);
    return hnd;
}

canStatus canClose(const CanHandle hnd) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    sim_port_close(h->port);
    if (h->open_flags & canOPEN_EXCLUSIVE) channels[h->channel].exclusive = 0;
    h->used = 0;
    pthread_mutex_unlock(&kv_lock);
    return canOK;
}

canStatus canBusOn(const CanHandle hnd) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    int state = SIM_ACTIVE;
    sim_channel_state(h->channel, &state, NULL, NULL);
    if (state == SIM_BUSOFF) {
        sim_channel_reset(h->channel);
        for (int i = 0; i < MAX_HANDLES; i++)
            if (handles[i].used && handles[i].channel == h->channel) handles[i].tx_pending = 0;
    }
    sim_port_set_on_bus(h->port, 1);
    pthread_mutex_unlock(&kv_lock);
    return canOK;
}

canStatus canBusOff(const CanHandle hnd) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    sim_port_set_on_bus(h->port, 0);
    pthread_mutex_unlock(&kv_lock);
    return canOK;
}

/* A bit time of 1 + tseg1 + tseg2 quanta at freq must divide the controller clock. */
static int fits_clock(long clock, long freq, unsigned tseg1, unsigned tseg2) {
    long quanta = 1 + (long)tseg1 + (long)tseg2;
    return freq > 0 && clock % (freq * quanta) == 0;
}

/* Driver-chosen segments for freq (tseg1 = tseg2 = 0 given): 80 % sample point or close. */
static int default_segments(long freq, unsigned *tseg1, unsigned *tseg2, unsigned *sjw) {
    for (unsigned quanta = 20; quanta >= 8; quanta--) {
        if (CLOCK_HZ % (freq * (long)quanta) == 0) {
            *tseg2 = quanta / 5 > 0 ? quanta / 5 : 1;
            *tseg1 = quanta - 1 - *tseg2;
            *sjw = *tseg2 < 4 ? *tseg2 : 4;
            return 1;
        }
    }
    return 0;
}

canStatus canSetBusParams(const CanHandle hnd, long freq, unsigned int tseg1, unsigned int tseg2,
                          unsigned int sjw, unsigned int noSamp, unsigned int syncmode) {
    (void)syncmode;
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    int fd = IS_FD(h);
    canStatus status = canOK;
    if (freq < 0) {
        static const long classic[] = {1000000, 500000, 250000, 125000, 100000,
                                       62500,   50000,  83333,  10000};
        static const long fd_rates[] = {500000, 1000000, 2000000, 4000000,
                                        8000000, 8000000, 8000000, 2000000};
        if (freq >= canBITRATE_10K) {
            freq = classic[-freq - 1];
        } else if (fd && freq <= canFD_BITRATE_500K_80P && freq >= canFD_BITRATE_2M_60P) {
            freq = fd_rates[-freq - 1000];
        } else {
            status = canERR_PARAM;
        }
        tseg1 = 13;
        tseg2 = 2;
        sjw = 1;
        noSamp = 1;
    } else if (freq == 0 || freq > 1000000) {
        status = canERR_PARAM;
    } else if (tseg1 == 0 && tseg2 == 0) {
        if (!default_segments(freq, &tseg1, &tseg2, &sjw)) status = canERR_PARAM;
        if (noSamp == 0) noSamp = 1;
    } else {
        unsigned max1 = fd ? 255 : 16, max2 = fd ? 127 : 8, maxsjw = fd ? 127 : 4;
        if (tseg1 < 1 || tseg1 > max1 || tseg2 < 1 || tseg2 > max2 || sjw < 1 ||
            sjw > maxsjw || sjw > tseg2 || !fits_clock(CLOCK_HZ, freq, tseg1, tseg2))
            status = canERR_PARAM;
    }
    if (status == canOK && noSamp != 1 && noSamp != 3) status = canERR_PARAM;
    if (status == canOK) {
        kv_channel *c = &channels[h->channel];
        c->freq = freq;
        c->tseg1 = tseg1;
        c->tseg2 = tseg2;
        c->sjw = sjw;
        c->nosamp = noSamp;
        c->btr0 = c->btr1 = -1;
    }
    pthread_mutex_unlock(&kv_lock);
    return status;
}

canStatus canSetBusParamsC200(const CanHandle hnd, unsigned char btr0, unsigned char btr1) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    unsigned brp = (btr0 & 0x3Fu) + 1, sjw = (btr0 >> 6) + 1;
    unsigned tseg1 = (btr1 & 0x0Fu) + 1, tseg2 = ((btr1 >> 4) & 0x07u) + 1;
    kv_channel *c = &channels[h->channel];
    c->freq = C200_CLOCK_HZ / (long)(brp * (1 + tseg1 + tseg2));
    c->tseg1 = tseg1;
    c->tseg2 = tseg2;
    c->sjw = sjw;
    c->nosamp = (btr1 & 0x80u) ? 3 : 1;
    c->btr0 = btr0;
    c->btr1 = btr1;
    pthread_mutex_unlock(&kv_lock);
    return canOK;
}

canStatus canSetBusParamsFd(const CanHandle hnd, long freq_brs, unsigned int tseg1_brs,
                            unsigned int tseg2_brs, unsigned int sjw_brs) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    canStatus status = canOK;
    if (!IS_FD(h)) {
        status = canERR_PARAM;
    } else if (freq_brs < 0) {
        static const long fd_rates[] = {500000, 1000000, 2000000, 4000000,
                                        8000000, 8000000, 8000000, 2000000};
        if (freq_brs <= canFD_BITRATE_500K_80P && freq_brs >= canFD_BITRATE_2M_60P) {
            freq_brs = fd_rates[-freq_brs - 1000];
            tseg1_brs = 7;
            tseg2_brs = 2;
            sjw_brs = 2;
        } else {
            status = canERR_PARAM;
        }
    } else if (freq_brs == 0 || freq_brs > 8000000) {
        status = canERR_PARAM;
    } else if (tseg1_brs == 0 && tseg2_brs == 0) {
        if (!default_segments(freq_brs, &tseg1_brs, &tseg2_brs, &sjw_brs)) {
            /* fast rates have few quanta: try 5 .. 7 */
            status = canERR_PARAM;
            for (unsigned q = 7; q >= 5; q--) {
                if (CLOCK_HZ % (freq_brs * (long)q) == 0) {
                    tseg2_brs = 2;
                    tseg1_brs = q - 3;
                    sjw_brs = 2;
                    status = canOK;
                    break;
                }
            }
        }
    } else if (tseg1_brs < 1 || tseg1_brs > 31 || tseg2_brs < 1 || tseg2_brs > 15 ||
               sjw_brs < 1 || sjw_brs > tseg2_brs ||
               !fits_clock(CLOCK_HZ, freq_brs, tseg1_brs, tseg2_brs)) {
        status = canERR_PARAM;
    }
    if (status == canOK) {
        kv_channel *c = &channels[h->channel];
        c->data_freq = freq_brs;
        c->data_tseg1 = tseg1_brs;
        c->data_tseg2 = tseg2_brs;
        c->data_sjw = sjw_brs;
    }
    pthread_mutex_unlock(&kv_lock);
    return status;
}

canStatus canGetBusParams(const CanHandle hnd, long *freq, unsigned int *tseg1,
                          unsigned int *tseg2, unsigned int *sjw, unsigned int *noSamp,
                          unsigned int *syncmode) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    kv_channel *c = &channels[h->channel];
    if (freq) *freq = c->freq;
    if (tseg1) *tseg1 = c->tseg1;
    if (tseg2) *tseg2 = c->tseg2;
    if (sjw) *sjw = c->sjw;
    if (noSamp) *noSamp = c->nosamp;
    if (syncmode) *syncmode = 0;
    pthread_mutex_unlock(&kv_lock);
    return canOK;
}

canStatus canSetBusOutputControl(const CanHandle hnd, const unsigned int drivertype) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    canStatus status = canOK;
    if (drivertype == canDRIVER_NORMAL || drivertype == canDRIVER_SILENT)
        channels[h->channel].driver = (int)drivertype;
    else
        status = canERR_PARAM;
    pthread_mutex_unlock(&kv_lock);
    return status;
}

static int fd_length_ok(unsigned dlc) {
    return dlc <= 8 || dlc == 12 || dlc == 16 || dlc == 20 || dlc == 24 || dlc == 32 ||
           dlc == 48 || dlc == 64;
}

/* Check and build the frame; 1: ok. */
static int make_frame(const kv_handle *h, long id, const void *msg, unsigned dlc, unsigned flag,
                      sim_frame *frame) {
    memset(frame, 0, sizeof *frame);
    int ext = (flag & canMSG_EXT) != 0;
    if (id < 0 || (unsigned long)id > (ext ? 0x1FFFFFFFul : 0x7FFul)) return 0;
    frame->id = (uint32_t)id;
    frame->flags = KV_LOCAL | (ext ? SIM_EXT : 0);
    if (flag & canMSG_ERROR_FRAME) { /* an error frame generated on the bus */
        frame->id = 0;
        frame->flags = KV_LOCAL | SIM_ERR;
        return 1;
    }
    if (flag & canFDMSG_FDF) {
        if (!IS_FD(h) || (flag & canMSG_RTR) || !fd_length_ok(dlc))
            return 0;
        frame->flags |= SIM_FD;
        if (flag & canFDMSG_BRS) frame->flags |= SIM_BRS;
        if (flag & canFDMSG_ESI) frame->flags |= SIM_ESI;
    } else {
        if (flag & (canFDMSG_BRS | canFDMSG_ESI)) return 0;
        if (dlc > 8) return 0;
    }
    frame->len = (uint8_t)dlc;
    if (flag & canMSG_RTR) {
        frame->flags |= SIM_RTR;
    } else if (dlc > 0) {
        if (!msg) return 0;
        memcpy(frame->data, msg, dlc);
    }
    return 1;
}

/* Send through h; kv_lock held. Returns canOK, canERR_PARAM, or 1 when the channel is
 * bus-off or the handle off bus (nothing was transmitted). */
static canStatus write_locked(kv_handle *h, const sim_frame *frame) {
    int rc = sim_port_send(h->port, frame);
    if (rc == SIM_OK) return canOK; /* with TXACK on, simcore's echo hands it back */
    if (rc == SIM_EBUSOFF || rc == SIM_EOFFBUS) return 1;
    return canERR_PARAM;
}

canStatus canWrite(const CanHandle hnd, long id, void *msg, unsigned int dlc, unsigned int flag) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    sim_frame frame;
    canStatus status = canERR_PARAM;
    if (make_frame(h, id, msg, dlc, flag, &frame)) {
        status = write_locked(h, &frame);
        if (status == 1) {
            if (h->tx_pending < TX_QUEUE) {
                h->tx_pending++;
                status = canOK;
            } else {
                status = canERR_TXBUFOFL;
            }
        }
    }
    pthread_mutex_unlock(&kv_lock);
    return status;
}

canStatus canWriteWait(const CanHandle hnd, long id, void *msg, unsigned int dlc,
                       unsigned int flag, unsigned long timeout) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    sim_frame frame;
    canStatus status = canERR_PARAM;
    if (make_frame(h, id, msg, dlc, flag, &frame)) status = write_locked(h, &frame);
    pthread_mutex_unlock(&kv_lock);
    if (status == 1) {
        /* Not acknowledged while bus-off: wait out the timeout (0xFFFFFFFF: for ever, which
         * the simulation caps at one hour). */
        unsigned long ms = timeout >= 0xFFFFFFFFul ? 3600000ul : timeout;
        struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        status = canERR_TIMEOUT;
    }
    return status;
}

canStatus canWriteSync(const CanHandle hnd, unsigned long timeout) {
    (void)timeout;
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    canStatus status = h->tx_pending ? canERR_TIMEOUT : canOK;
    pthread_mutex_unlock(&kv_lock);
    return status;
}

static canStatus read_common(const CanHandle hnd, long *id, void *msg, unsigned int *dlc,
                             unsigned int *flag, unsigned long *time, int timeout_ms) {
    if (hnd < 0 || hnd >= MAX_HANDLES) return canERR_INVHANDLE;
    kv_handle *h = &handles[hnd];
    pthread_mutex_lock(&kv_lock);
    int used = h->used, port = h->port;
    unsigned scale = h->timer_scale;
    pthread_mutex_unlock(&kv_lock);
    if (!used) return canERR_INVHANDLE;
    sim_frame frame;
    int rc = sim_port_recv(port, &frame, timeout_ms);
    if (rc == 0) return canERR_NOMSG;
    if (rc < 0) return canERR_INVHANDLE;
    unsigned f = 0;
    if (frame.flags & SIM_ERR) {
        f = canMSG_ERROR_FRAME | (frame.id & canMSGERR_BUSERR);
        frame.id = 0;
        frame.len = 0;
    } else {
        f = (frame.flags & SIM_EXT) ? canMSG_EXT : canMSG_STD;
        if (frame.flags & SIM_RTR) f |= canMSG_RTR;
        if (frame.flags & SIM_FD) f |= canFDMSG_FDF;
        if (frame.flags & SIM_BRS) f |= canFDMSG_BRS;
        if (frame.flags & SIM_ESI) f |= canFDMSG_ESI;
        if (frame.flags & SIM_ECHO) f |= canMSG_TXACK;
        else if ((frame.flags & KV_LOCAL) && LOAD(h->local_txack)) f |= canMSG_LOCAL_TXACK;
    }
    if (sim_port_overrun(port, 1) > 0) {
        f |= canMSGERR_SW_OVERRUN;
        BUMP(h->overruns);
    }
    if (id) *id = (long)frame.id;
    if (msg && !(frame.flags & SIM_RTR) && frame.len) memcpy(msg, frame.data, frame.len);
    if (dlc) *dlc = frame.len;
    if (flag) *flag = f;
    if (time) *time = (unsigned long)(frame.time_us / scale);
    return canOK;
}

canStatus canRead(const CanHandle hnd, long *id, void *msg, unsigned int *dlc,
                  unsigned int *flag, unsigned long *time) {
    return read_common(hnd, id, msg, dlc, flag, time, 0);
}

canStatus canReadWait(const CanHandle hnd, long *id, void *msg, unsigned int *dlc,
                      unsigned int *flag, unsigned long *time, unsigned long timeout) {
    int ms = timeout >= 0xFFFFFFFFul ? -1 : (timeout > INT_MAX ? INT_MAX : (int)timeout);
    return read_common(hnd, id, msg, dlc, flag, time, ms);
}

canStatus canSetAcceptanceFilter(const CanHandle hnd, unsigned int code, unsigned int mask,
                                 int is_extended) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    if (is_extended) {
        STORE(h->ext_code, code & 0x1FFFFFFFu);
        STORE(h->ext_mask, mask & 0x1FFFFFFFu);
    } else {
        STORE(h->std_code, code & 0x7FFu);
        STORE(h->std_mask, mask & 0x7FFu);
    }
    pthread_mutex_unlock(&kv_lock);
    return canOK;
}

/* canlib.h's canFILTER_SET_* values for canAccept. */
canStatus canAccept(const CanHandle hnd, const long envelope, const unsigned int flag) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    canStatus status = canOK;
    unsigned value = (unsigned)envelope;
    switch (flag) {
    case 3: STORE(h->std_code, value & 0x7FFu); break;
    case 4: STORE(h->std_mask, value & 0x7FFu); break;
    case 5: STORE(h->ext_code, value & 0x1FFFFFFFu); break;
    case 6: STORE(h->ext_mask, value & 0x1FFFFFFFu); break;
    default: status = canERR_PARAM;
    }
    pthread_mutex_unlock(&kv_lock);
    return status;
}

canStatus canIoCtl(const CanHandle hnd, unsigned int func, void *buf, unsigned int buflen) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    canStatus status = canOK;
    uint32_t *dword = buflen >= 4 ? buf : NULL;
    switch (func) {
    case canIOCTL_SET_TIMER_SCALE:
        if (!dword || *dword == 0) status = canERR_PARAM;
        else h->timer_scale = *dword;
        break;
    case canIOCTL_GET_TIMER_SCALE:
        if (!dword) status = canERR_PARAM;
        else *dword = h->timer_scale;
        break;
    case canIOCTL_SET_TXACK:
        if (!dword || *dword > 2) {
            status = canERR_PARAM;
        } else {
            h->txack = *dword == 1;
            sim_port_set_echo(h->port, h->txack);
        }
        break;
    case canIOCTL_GET_TXACK:
        if (!dword) status = canERR_PARAM;
        else *dword = (uint32_t)h->txack;
        break;
    case canIOCTL_SET_LOCAL_TXECHO:
        if (!buf || buflen < 1) status = canERR_PARAM;
        else STORE(h->txecho, *(unsigned char *)buf != 0);
        break;
    case canIOCTL_SET_LOCAL_TXACK:
        if (!buf || buflen < 1) status = canERR_PARAM;
        else STORE(h->local_txack, *(unsigned char *)buf != 0);
        break;
    case canIOCTL_FLUSH_RX_BUFFER:
        sim_port_clear(h->port);
        break;
    case canIOCTL_FLUSH_TX_BUFFER:
        h->tx_pending = 0;
        break;
    case canIOCTL_GET_RX_BUFFER_LEVEL:
        if (!dword) status = canERR_PARAM;
        else *dword = (uint32_t)sim_port_pending(h->port);
        break;
    case canIOCTL_GET_TX_BUFFER_LEVEL:
        if (!dword) status = canERR_PARAM;
        else *dword = (uint32_t)h->tx_pending;
        break;
    case canIOCTL_CLEAR_ERROR_COUNTERS: {
        int state = SIM_ACTIVE;
        sim_channel_state(h->channel, &state, NULL, NULL);
        simctl_set_state(h->channel, state, 0, 0);
        break;
    }
    default:
        status = canERR_NOT_IMPLEMENTED;
    }
    pthread_mutex_unlock(&kv_lock);
    return status;
}

canStatus canReadTimer(const CanHandle hnd, unsigned long *time) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    unsigned scale = h->timer_scale;
    pthread_mutex_unlock(&kv_lock);
    if (!time) return canERR_PARAM;
    *time = (unsigned long)(sim_now_us() / scale);
    return canOK;
}

/* canlib.h: the same clock through an unsigned int. */
canStatus kvReadTimer(const CanHandle hnd, unsigned int *time) {
    unsigned long now = 0;
    canStatus status = canReadTimer(hnd, &now);
    if (status == canOK && time) *time = (unsigned int)now;
    return status;
}

/* canlib.h: major version in the high byte, minor in the low byte (this simulation: 5.0). */
unsigned short canGetVersion(void) { return 0x0500; }

canStatus canReadStatus(const CanHandle hnd, unsigned long *const flags) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    int state = SIM_ACTIVE;
    sim_channel_state(h->channel, &state, NULL, NULL);
    unsigned long f = 0;
    switch (state) {
    case SIM_BUSOFF: f = canSTAT_BUS_OFF; break;
    case SIM_PASSIVE: f = canSTAT_ERROR_PASSIVE | canSTAT_ERROR_WARNING; break;
    case SIM_WARNING: f = canSTAT_ERROR_WARNING | canSTAT_ERROR_ACTIVE; break;
    default: f = canSTAT_ERROR_ACTIVE;
    }
    if (sim_port_pending(h->port) > 0) f |= canSTAT_RX_PENDING;
    if (h->tx_pending) f |= canSTAT_TX_PENDING;
    if (sim_port_overrun(h->port, 0) > 0) f |= canSTAT_SW_OVERRUN;
    pthread_mutex_unlock(&kv_lock);
    if (!flags) return canERR_PARAM;
    *flags = f;
    return canOK;
}

canStatus canReadErrorCounters(const CanHandle hnd, unsigned int *txErr, unsigned int *rxErr,
                               unsigned int *ovErr) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    int tx = 0, rx = 0;
    sim_channel_state(h->channel, NULL, &tx, &rx);
    if (txErr) *txErr = (unsigned)tx;
    if (rxErr) *rxErr = (unsigned)rx;
    if (ovErr) *ovErr = (unsigned)LOAD(h->overruns);
    pthread_mutex_unlock(&kv_lock);
    return canOK;
}

canStatus canRequestBusStatistics(const CanHandle hnd) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    h->snapshot.stdData = LOAD(h->seen[0]);
    h->snapshot.stdRemote = LOAD(h->seen[1]);
    h->snapshot.extData = LOAD(h->seen[2]);
    h->snapshot.extRemote = LOAD(h->seen[3]);
    h->snapshot.errFrame = LOAD(h->seen[4]);
    h->snapshot.busLoad = 0;
    h->snapshot.overruns = LOAD(h->overruns);
    pthread_mutex_unlock(&kv_lock);
    return canOK;
}

canStatus canGetBusStatistics(const CanHandle hnd, canBusStatistics *stat, size_t bufsiz) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    canStatus status = canOK;
    if (!stat || bufsiz < sizeof *stat) status = canERR_PARAM;
    else *stat = h->snapshot;
    pthread_mutex_unlock(&kv_lock);
    return status;
}

static canStatus put(void *buffer, size_t bufsize, const void *value, size_t size) {
    if (!buffer) return canERR_PARAM;
    if (bufsize < size) return canERR_BUFFER_TOO_SMALL;
    memcpy(buffer, value, size);
    return canOK;
}

canStatus canGetChannelData(int channel, int item, void *buffer, size_t bufsize) {
    if (!initialized) return canERR_NOTINITIALIZED;
    if (channel < 0 || channel >= sim_channel_count()) return canERR_NOTFOUND;
    int virt = is_virtual(channel);
    int first_virtual = sim_channel_count() >= 3 ? sim_channel_count() - 2 : sim_channel_count();
    char text[128];
    uint32_t dword;
    uint64_t qword;
    switch (item) {
    case canCHANNELDATA_CHANNEL_CAP:
        dword = canCHANNEL_CAP_EXTENDED_CAN | canCHANNEL_CAP_BUS_STATISTICS |
                canCHANNEL_CAP_ERROR_COUNTERS | canCHANNEL_CAP_TXACKNOWLEDGE |
                canCHANNEL_CAP_CAN_FD | (virt ? canCHANNEL_CAP_VIRTUAL : canCHANNEL_CAP_SILENT_MODE);
        return put(buffer, bufsize, &dword, sizeof dword);
    case canCHANNELDATA_CHANNEL_FLAGS:
        dword = 0;
        pthread_mutex_lock(&kv_lock);
        for (int i = 0; i < MAX_HANDLES; i++) {
            if (!handles[i].used || handles[i].channel != channel) continue;
            dword |= canCHANNEL_IS_OPEN;
            if (IS_FD(&handles[i])) dword |= canCHANNEL_IS_CANFD;
        }
        if (channels[channel].exclusive) dword |= canCHANNEL_IS_EXCLUSIVE;
        pthread_mutex_unlock(&kv_lock);
        return put(buffer, bufsize, &dword, sizeof dword);
    case canCHANNELDATA_CARD_NUMBER:
        dword = virt ? 0 : (uint32_t)(channel / 2);
        return put(buffer, bufsize, &dword, sizeof dword);
    case canCHANNELDATA_CHAN_NO_ON_CARD:
        dword = (uint32_t)(virt ? channel - first_virtual : channel % 2);
        return put(buffer, bufsize, &dword, sizeof dword);
    case canCHANNELDATA_CARD_SERIAL_NO:
        qword = virt ? 0 : 10001u + (uint64_t)(channel / 2);
        return put(buffer, bufsize, &qword, sizeof qword);
    case canCHANNELDATA_CARD_UPC_NO:
        /* The EAN as BCD digits: 73-30130-00752-2 for the USB device, 0 for virtual. */
        qword = virt ? 0 : 0x0007330130007522ull;
        return put(buffer, bufsize, &qword, sizeof qword);
    case canCHANNELDATA_DEVDESCR_ASCII:
        snprintf(text, sizeof text, "%s",
                 virt ? "Kvaser Virtual CAN Driver" : "Kvaser USBcan Pro 2xHS v2");
        return put(buffer, bufsize, text, strlen(text) + 1);
    case canCHANNELDATA_CHANNEL_NAME:
        snprintf(text, sizeof text, "%s (channel %d)",
                 virt ? "Kvaser Virtual CAN Driver" : "Kvaser USBcan Pro 2xHS v2",
                 virt ? channel - first_virtual : channel % 2);
        return put(buffer, bufsize, text, strlen(text) + 1);
    default:
        return canERR_NOT_IMPLEMENTED;
    }
}

canStatus kvFlashLeds(const CanHandle hnd, int action, int timeout) {
    kv_handle *h = lock_handle(hnd);
    if (!h) return canERR_INVHANDLE;
    canStatus status = canOK;
    if (action < 0 || action > 11 || timeout < 0) {
        status = canERR_PARAM;
    } else {
        channels[h->channel].leds = action;
        channels[h->channel].led_timeout = timeout;
    }
    pthread_mutex_unlock(&kv_lock);
    return status;
}

/* Our own wording of what each status means. */
canStatus canGetErrorText(canStatus err, char *buf, unsigned int bufsiz) {
    const char *text;
    switch (err) {
    case canOK: text = "No error"; break;
    case canERR_PARAM: text = "Error in parameter"; break;
    case canERR_NOMSG: text = "No messages available"; break;
    case canERR_NOTFOUND: text = "Specified device or channel not found"; break;
    case canERR_NOMEM: text = "Out of memory"; break;
    case canERR_NOCHANNELS: text = "No channels available"; break;
    case canERR_INTERRUPTED: text = "Operation interrupted"; break;
    case canERR_TIMEOUT: text = "Timeout occurred"; break;
    case canERR_NOTINITIALIZED: text = "Library not initialized"; break;
    case canERR_NOHANDLES: text = "No more handles"; break;
    case canERR_INVHANDLE: text = "Handle is invalid"; break;
    case canERR_DRIVER: text = "CAN driver type not supported"; break;
    case canERR_TXBUFOFL: text = "Transmit buffer overflow"; break;
    case canERR_HARDWARE: text = "A hardware error was detected"; break;
    case canERR_NOT_SUPPORTED: text = "Operation not supported by hardware or firmware"; break;
    case canERR_NOCARD: text = "Card not found"; break;
    case canERR_NOT_IMPLEMENTED: text = "Not implemented"; break;
    case canERR_BUFFER_TOO_SMALL: text = "Buffer provided too small"; break;
    default: text = "Unknown error"; break;
    }
    if (!buf || bufsiz == 0) return canERR_PARAM;
    snprintf(buf, bufsiz, "%s (%d)", text, (int)err);
    return canOK;
}

/* Test access: what the backend configured on a channel. LLONG_MIN for an unknown key. */
long long kvsim_get(int channel, const char *key) {
    if (channel < 0 || channel >= 32 || !key) return LLONG_MIN;
    kv_channel *c = &channels[channel];
    long long value = LLONG_MIN;
    pthread_mutex_lock(&kv_lock);
    if (!strcmp(key, "freq")) value = c->freq;
    else if (!strcmp(key, "tseg1")) value = c->tseg1;
    else if (!strcmp(key, "tseg2")) value = c->tseg2;
    else if (!strcmp(key, "sjw")) value = c->sjw;
    else if (!strcmp(key, "nosamp")) value = c->nosamp;
    else if (!strcmp(key, "data_freq")) value = c->data_freq;
    else if (!strcmp(key, "data_tseg1")) value = c->data_tseg1;
    else if (!strcmp(key, "data_tseg2")) value = c->data_tseg2;
    else if (!strcmp(key, "data_sjw")) value = c->data_sjw;
    else if (!strcmp(key, "btr0")) value = c->btr0;
    else if (!strcmp(key, "btr1")) value = c->btr1;
    else if (!strcmp(key, "driver")) value = c->driver;
    else if (!strcmp(key, "leds")) value = c->leds;
    else if (!strcmp(key, "led_timeout")) value = c->led_timeout;
    else if (!strcmp(key, "handles")) {
        value = 0;
        for (int i = 0; i < MAX_HANDLES; i++)
            if (handles[i].used && handles[i].channel == channel) value++;
    }
    pthread_mutex_unlock(&kv_lock);
    return value;
}

/* Test access: forget every handle and channel setting (simctl_reset clears the ports). */
void kvsim_reset(void) {
    pthread_mutex_lock(&kv_lock);
    memset(handles, 0, sizeof handles);
    memset(channels, 0, sizeof channels);
    pthread_mutex_unlock(&kv_lock);
}
