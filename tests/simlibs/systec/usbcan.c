/*
 * A simulated SYS TEC USB-CANmodul library (usbcan32.dll / usbcan64.dll), on simcore.
 *
 * Functions, structures (packed to 1 byte: tCanMsgStruct, tStatusStruct, tUcanInitCanParam,
 * tUcanHardwareInfoEx, tUcanHardwareInitInfo), frame-format bits, modes, status bits, events,
 * reset flags and return codes are those of SYS TEC's public header usbcan32.h
 * (USBCAN_MSG_FF_*, kUcanMode*, USBCAN_CANERR_*, USBCAN_EVENT_*, USBCAN_RESET_*, USBCAN_ERR_*,
 * USBCAN_ERRCMD_*, USBCAN_WARN_*). The acceptance filter follows the header's rule: a frame
 * with identifier bits RxID (shifted as the header's USBCAN_SET_ACR shows) is accepted if
 * (~(RxID ^ ACR) | AMR) == 0xFFFFFFFF.
 *
 * Simulation: SIMCAN_SYSTEC_DEVICES modules (default 2) with device numbers 0.. and serial
 * numbers 100000+n, two channels each; channel c of every module is wired to simcore channel c.
 * Even device numbers are USB-CANmodul2 G4 modules, odd ones G3 (each takes its own baud table).
 * Like the real library, a thread of the library calls the application's callback with
 * USBCAN_EVENT_RECEIVE when a channel's receive buffer becomes non-empty. Error frames
 * injected through simctl are not delivered as messages but show in the CAN status; a bus-off
 * channel does not take messages (USBCAN_ERR_DLL_TXFULL).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simcore.h"

#define EXPORT __attribute__((visibility("default")))

typedef uint8_t BYTE;
typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef int32_t BOOL;
typedef BYTE tUcanHandle;

#define USBCAN_SUCCESSFUL 0x00
#define USBCAN_ERR_HWINUSE 0x03
#define USBCAN_ERR_ILLHW 0x05
#define USBCAN_ERR_ILLHANDLE 0x06
#define USBCAN_ERR_ILLPARAM 0x07
#define USBCAN_ERR_DLL_TXFULL 0x0b
#define USBCAN_ERR_CANNOTINIT 0x0d
#define USBCAN_ERR_ILLCHANNEL 0x10
#define USBCAN_ERRCMD_ILLBDR 0x47
#define USBCAN_ERRCMD_ALREADYINIT 0x49
#define USBCAN_WARN_NODATA 0x80
#define USBCAN_WARN_DLL_RXOVERRUN 0x82
#define USBCAN_MSG_FF_ECHO 0x20
#define USBCAN_MSG_FF_RTR 0x40
#define USBCAN_MSG_FF_EXT 0x80
#define kUcanModeListenOnly 0x01
#define kUcanModeTxEcho 0x02
#define USBCAN_EVENT_RECEIVE 2
#define USBCAN_CANERR_BUSLIGHT 0x0004
#define USBCAN_CANERR_BUSHEAVY 0x0008
#define USBCAN_CANERR_BUSOFF 0x0010
#define USBCAN_CANERR_QOVERRUN 0x0040
#define USBCAN_RESET_NO_STATUS 0x00000001u
#define USBCAN_RESET_NO_RXBUFFER_CH 0x00000100u
#define USBCAN_ANY_MODULE 255
#define USBCAN_CHANNEL_ANY 255
#define USBCAN_BAUDEX_USE_BTR01 0x00000000u
#define USBCAN_PRODCODE_PID_ADVANCED_G4 0x00001121u
#define USBCAN_PRODCODE_PID_ADVANCED 0x00001105u
#define USBCAN_PRODCODE_PID_G4 0x00000020u

#pragma pack(push, 1)
typedef struct {
    DWORD m_dwID;
    BYTE m_bFF;
    BYTE m_bDLC;
    BYTE m_bData[8];
    DWORD m_dwTime;
} tCanMsgStruct;
typedef struct {
    WORD m_wCanStatus;
    WORD m_wUsbStatus;
} tStatusStruct;
typedef struct {
    DWORD m_dwSize;
    BYTE m_bMode;
    BYTE m_bBTR0;
    BYTE m_bBTR1;
    BYTE m_bOCR;
    DWORD m_dwAMR;
    DWORD m_dwACR;
    DWORD m_dwBaudrate;
    WORD m_wNrOfRxBufferEntries;
    WORD m_wNrOfTxBufferEntries;
} tUcanInitCanParam;
typedef void (*tCallbackFktEx)(tUcanHandle, DWORD, BYTE, void *);
typedef struct {
    DWORD m_dwSize;
    tUcanHandle m_UcanHandle;
    BYTE m_bDeviceNr;
    DWORD m_dwSerialNr;
    DWORD m_dwFwVersionEx;
    DWORD m_dwProductCode;
    DWORD m_adwUniqueId[4];
    DWORD m_dwFlags;
} tUcanHardwareInfoEx;
typedef struct {
    DWORD m_dwSize;
    BOOL m_fDoInitialize;
    tUcanHandle *m_pUcanHandle;
    tCallbackFktEx m_fpCallbackFktEx;
    void *m_pCallbackArg;
    BOOL m_fTryNext;
} tUcanHardwareInitInfo;
#pragma pack(pop)
typedef void (*tUcanEnumCallback)(DWORD, BOOL, tUcanHardwareInfoEx *, tUcanHardwareInitInfo *, void *);

#define MAX_DEVICES 8
#define CHANNELS 2

typedef struct {
    int port; /* -1: not initialised */
    BYTE mode;
    DWORD amr, acr;
    volatile int notified;
} chan_t;

typedef struct {
    int open;
    tCallbackFktEx callback;
    void *arg;
    chan_t ch[CHANNELS];
    pthread_t thread;
    volatile int stop;
} module_t;

static module_t devs[MAX_DEVICES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static int count(void) {
    const char *text = getenv("SIMCAN_SYSTEC_DEVICES");
    int n = text ? atoi(text) : 2;
    return n < 0 ? 0 : (n > MAX_DEVICES ? MAX_DEVICES : n);
}

static module_t *dev_of(tUcanHandle h) {
    if (h < 1 || h > MAX_DEVICES || !devs[h - 1].open) return NULL;
    return &devs[h - 1];
}

/* The library's event thread: one USBCAN_EVENT_RECEIVE per channel when its buffer becomes
 * non-empty (re-armed when a read empties it). */
static void *events(void *p) {
    module_t *d = p;
    tUcanHandle h = (tUcanHandle)(d - devs + 1);
    while (!d->stop) {
        struct pollfd fds[CHANNELS];
        int which[CHANNELS], n = 0;
        pthread_mutex_lock(&lock);
        for (int c = 0; c < CHANNELS; c++) {
            if (d->ch[c].port >= 0 && !d->ch[c].notified) {
                fds[n].fd = sim_port_fd(d->ch[c].port);
                fds[n].events = POLLIN;
                which[n++] = c;
            }
        }
        pthread_mutex_unlock(&lock);
        if (n == 0) {
            struct timespec pause = {0, 1000000};
            nanosleep(&pause, NULL);
            continue;
        }
        if (poll(fds, (nfds_t)n, 20) <= 0) continue;
        for (int k = 0; k < n; k++) {
            if (!(fds[k].revents & POLLIN)) continue;
            d->ch[which[k]].notified = 1;
            if (d->callback && !d->stop) d->callback(h, USBCAN_EVENT_RECEIVE, (BYTE)which[k], d->arg);
        }
    }
    return NULL;
}

EXPORT BYTE UcanInitHardwareEx(tUcanHandle *handle, BYTE device_nr, tCallbackFktEx callback, void *arg) {
    if (!handle) return USBCAN_ERR_ILLPARAM;
    pthread_mutex_lock(&lock);
    int n = count(), found = -1;
    if (device_nr == USBCAN_ANY_MODULE) {
        for (int i = 0; i < n && found < 0; i++)
            if (!devs[i].open) found = i;
        if (found < 0) {
            pthread_mutex_unlock(&lock);
            return n ? USBCAN_ERR_HWINUSE : USBCAN_ERR_ILLHW;
        }
    } else {
        if (device_nr >= n) {
            pthread_mutex_unlock(&lock);
            return USBCAN_ERR_ILLHW;
        }
        if (devs[device_nr].open) {
            pthread_mutex_unlock(&lock);
            return USBCAN_ERR_HWINUSE;
        }
        found = device_nr;
    }
    module_t *d = &devs[found];
    memset(d, 0, sizeof *d);
    for (int c = 0; c < CHANNELS; c++) d->ch[c].port = -1;
    d->open = 1;
    d->callback = callback;
    d->arg = arg;
    pthread_mutex_unlock(&lock);
    pthread_create(&d->thread, NULL, events, d);
    *handle = (tUcanHandle)(found + 1);
    return USBCAN_SUCCESSFUL;
}

static int accept(const sim_frame *frame, void *ctx) {
    const chan_t *c = ctx;
    if (frame->flags & SIM_ERR) return 1;
    DWORD bits = (frame->flags & SIM_EXT) ? (frame->id << 3) : (frame->id << 21);
    return (~(bits ^ c->acr) | c->amr) == 0xFFFFFFFFu;
}

/* Device numbers that are even are USB-CANmodul2 G4, odd ones USB-CANmodul2 G3. */
static DWORD product_code(int device) {
    return (device % 2) ? USBCAN_PRODCODE_PID_ADVANCED : USBCAN_PRODCODE_PID_ADVANCED_G4;
}

static int known_baud(int device, DWORD baud) {
    /* usbcan32.h: G3 (USBCAN_BAUDEX_*, USBCAN_BAUDEX_SP2_*) and G4 (USBCAN_BAUDEX_G4_*) */
    static const DWORD g3[] = {
        0x00020354, 0x00030254, 0x00050354, 0x000B0354, 0x00170354, 0x00171466, 0x002F1466,
        0x00771466, 0x80771466, 0x00020741, 0x00030731, 0x00050741, 0x000B0741, 0x00170741,
        0x001D1741, 0x003B1741, 0x00771772, 0x80771772,
    };
    static const DWORD g4[] = {
        0x40180001, 0x401B0001, 0x401C0002, 0x401C0005, 0x401C000B,
        0x412F000B, 0x412F0017, 0x412F003B, 0x412F0077,
    };
    int is_g4 = (product_code(device) & USBCAN_PRODCODE_PID_G4) != 0;
    const DWORD *table = is_g4 ? g4 : g3;
    size_t n = is_g4 ? sizeof g4 / sizeof g4[0] : sizeof g3 / sizeof g3[0];
    for (size_t i = 0; i < n; i++)
        if (table[i] == baud) return 1;
    return 0;
}

EXPORT BYTE UcanInitCanEx2(tUcanHandle h, BYTE channel, tUcanInitCanParam *param) {
    module_t *d = dev_of(h);
    if (!d) return USBCAN_ERR_ILLHANDLE;
    if (channel >= CHANNELS) return USBCAN_ERR_ILLCHANNEL;
    if (!param || param->m_dwSize < 20) return USBCAN_ERR_ILLPARAM;
    chan_t *c = &d->ch[channel];
    if (c->port >= 0) return USBCAN_ERRCMD_ALREADYINIT;
    if (param->m_dwBaudrate == USBCAN_BAUDEX_USE_BTR01 ? param->m_bBTR1 == 0 : !known_baud((int)(d - devs), param->m_dwBaudrate))
        return USBCAN_ERRCMD_ILLBDR;
    int entries = param->m_dwSize >= 24 && param->m_wNrOfRxBufferEntries ? param->m_wNrOfRxBufferEntries : 4096;
    int port = sim_port_open(channel, entries);
    if (port < 0) return USBCAN_ERR_ILLPARAM;
    pthread_mutex_lock(&lock);
    c->mode = param->m_bMode;
    c->amr = param->m_dwAMR;
    c->acr = param->m_dwACR;
    c->notified = 0;
    sim_port_set_accept(port, accept, c);
    sim_port_set_echo(port, (c->mode & kUcanModeTxEcho) != 0);
    c->port = port;
    pthread_mutex_unlock(&lock);
    return USBCAN_SUCCESSFUL;
}

static chan_t *chan_of(tUcanHandle h, BYTE channel, BYTE *rc) {
    module_t *d = dev_of(h);
    if (!d) {
        *rc = USBCAN_ERR_ILLHANDLE;
        return NULL;
    }
    if (channel >= CHANNELS) {
        *rc = USBCAN_ERR_ILLCHANNEL;
        return NULL;
    }
    if (d->ch[channel].port < 0) {
        *rc = USBCAN_ERR_CANNOTINIT;
        return NULL;
    }
    return &d->ch[channel];
}

EXPORT BYTE UcanDeinitCanEx(tUcanHandle h, BYTE channel) {
    BYTE rc = USBCAN_SUCCESSFUL;
    chan_t *c = chan_of(h, channel, &rc);
    if (!c) return rc;
    pthread_mutex_lock(&lock);
    int port = c->port;
    c->port = -1;
    pthread_mutex_unlock(&lock);
    sim_port_close(port);
    return USBCAN_SUCCESSFUL;
}

EXPORT BYTE UcanDeinitHardware(tUcanHandle h) {
    module_t *d = dev_of(h);
    if (!d) return USBCAN_ERR_ILLHANDLE;
    for (BYTE c = 0; c < CHANNELS; c++)
        if (d->ch[c].port >= 0) UcanDeinitCanEx(h, c);
    d->stop = 1;
    pthread_join(d->thread, NULL); /* no callback after this returns */
    pthread_mutex_lock(&lock);
    d->open = 0;
    pthread_mutex_unlock(&lock);
    return USBCAN_SUCCESSFUL;
}

EXPORT BYTE UcanWriteCanMsgEx(tUcanHandle h, BYTE channel, tCanMsgStruct *msgs, DWORD *count_p) {
    BYTE rc = USBCAN_SUCCESSFUL;
    chan_t *c = chan_of(h, channel, &rc);
    if (!c) return rc;
    if (!msgs) return USBCAN_ERR_ILLPARAM;
    DWORD n = count_p ? *count_p : 1, sent = 0;
    if (c->mode & kUcanModeListenOnly) {
        if (count_p) *count_p = 0;
        return USBCAN_ERR_ILLPARAM;
    }
    for (; sent < n; sent++) {
        const tCanMsgStruct *m = &msgs[sent];
        int ext = (m->m_bFF & USBCAN_MSG_FF_EXT) != 0;
        if (m->m_bDLC > 8 || m->m_dwID > (ext ? 0x1FFFFFFFu : 0x7FFu)) {
            rc = USBCAN_ERR_ILLPARAM;
            break;
        }
        sim_frame frame;
        memset(&frame, 0, sizeof frame);
        frame.id = m->m_dwID;
        frame.flags = (ext ? SIM_EXT : 0) | ((m->m_bFF & USBCAN_MSG_FF_RTR) ? SIM_RTR : 0);
        frame.len = m->m_bDLC;
        if (!(frame.flags & SIM_RTR)) memcpy(frame.data, m->m_bData, m->m_bDLC);
        if (sim_port_send(c->port, &frame) != SIM_OK) {
            rc = USBCAN_ERR_DLL_TXFULL;
            break;
        }
    }
    if (count_p) *count_p = sent;
    return sent == n ? USBCAN_SUCCESSFUL : rc;
}

EXPORT BYTE UcanReadCanMsgEx(tUcanHandle h, BYTE *channel_p, tCanMsgStruct *msgs, DWORD *count_p) {
    module_t *d = dev_of(h);
    if (!d) return USBCAN_ERR_ILLHANDLE;
    if (!channel_p || !msgs) return USBCAN_ERR_ILLPARAM;
    DWORD want = count_p ? *count_p : 1;
    if (count_p) *count_p = 0;
    BYTE first = *channel_p == USBCAN_CHANNEL_ANY ? 0 : *channel_p;
    BYTE last = *channel_p == USBCAN_CHANNEL_ANY ? CHANNELS - 1 : *channel_p;
    if (last >= CHANNELS) return USBCAN_ERR_ILLCHANNEL;
    for (BYTE ch = first; ch <= last; ch++) {
        chan_t *c = &d->ch[ch];
        if (c->port < 0) continue;
        int overrun = sim_port_overrun(c->port, 1);
        DWORD got = 0;
        sim_frame frame;
        while (got < want && sim_port_recv(c->port, &frame, 0) == 1) {
            if (frame.flags & SIM_ERR) continue;
            tCanMsgStruct *m = &msgs[got++];
            memset(m, 0, sizeof *m);
            m->m_dwID = frame.id;
            m->m_bFF = (BYTE)(((frame.flags & SIM_EXT) ? USBCAN_MSG_FF_EXT : 0) |
                              ((frame.flags & SIM_RTR) ? USBCAN_MSG_FF_RTR : 0) |
                              ((frame.flags & SIM_ECHO) ? USBCAN_MSG_FF_ECHO : 0));
            m->m_bDLC = frame.len > 8 ? 8 : frame.len;
            memcpy(m->m_bData, frame.data, m->m_bDLC);
            m->m_dwTime = (DWORD)(frame.time_us / 1000u);
        }
        if (sim_port_pending(c->port) == 0) c->notified = 0;
        if (got) {
            *channel_p = ch;
            if (count_p) *count_p = got;
            return overrun ? USBCAN_WARN_DLL_RXOVERRUN : USBCAN_SUCCESSFUL;
        }
    }
    return USBCAN_WARN_NODATA;
}

EXPORT BYTE UcanGetStatusEx(tUcanHandle h, BYTE channel, tStatusStruct *status) {
    BYTE rc = USBCAN_SUCCESSFUL;
    chan_t *c = chan_of(h, channel, &rc);
    if (!c) return rc;
    if (!status) return USBCAN_ERR_ILLPARAM;
    int state = SIM_ACTIVE;
    sim_channel_state(channel, &state, NULL, NULL);
    status->m_wCanStatus = 0;
    status->m_wUsbStatus = 0;
    if (state == SIM_WARNING) status->m_wCanStatus |= USBCAN_CANERR_BUSLIGHT;
    if (state == SIM_PASSIVE) status->m_wCanStatus |= USBCAN_CANERR_BUSLIGHT | USBCAN_CANERR_BUSHEAVY;
    if (state == SIM_BUSOFF) status->m_wCanStatus |= USBCAN_CANERR_BUSOFF;
    if (sim_port_overrun(c->port, 0)) status->m_wCanStatus |= USBCAN_CANERR_QOVERRUN;
    return USBCAN_SUCCESSFUL;
}

EXPORT BYTE UcanResetCanEx(tUcanHandle h, BYTE channel, DWORD flags) {
    BYTE rc = USBCAN_SUCCESSFUL;
    chan_t *c = chan_of(h, channel, &rc);
    if (!c) return rc;
    if (!(flags & USBCAN_RESET_NO_STATUS)) {
        sim_channel_reset(channel);
        sim_port_overrun(c->port, 1);
    }
    if (!(flags & USBCAN_RESET_NO_RXBUFFER_CH)) {
        sim_port_clear(c->port);
        c->notified = 0;
    }
    return USBCAN_SUCCESSFUL; /* nothing waits in the simulated transmit buffers */
}

EXPORT BYTE UcanSetTxTimeout(tUcanHandle h, BYTE channel, DWORD timeout_ms) {
    (void)timeout_ms;
    BYTE rc = USBCAN_SUCCESSFUL;
    return chan_of(h, channel, &rc) ? USBCAN_SUCCESSFUL : rc;
}

EXPORT BYTE UcanGetMsgPending(tUcanHandle h, BYTE channel, DWORD flags, DWORD *pending) {
    (void)flags;
    BYTE rc = USBCAN_SUCCESSFUL;
    chan_t *c = chan_of(h, channel, &rc);
    if (!c) return rc;
    if (!pending) return USBCAN_ERR_ILLPARAM;
    *pending = (DWORD)sim_port_pending(c->port);
    return USBCAN_SUCCESSFUL;
}

EXPORT DWORD UcanEnumerateHardware(tUcanEnumCallback callback, void *arg, BOOL used, BYTE nr_low,
                                   BYTE nr_high, DWORD serial_low, DWORD serial_high,
                                   DWORD product_low, DWORD product_high) {
    DWORD found = 0;
    for (int i = 0; i < count(); i++) {
        DWORD serial = 100000u + (DWORD)i;
        if (i < nr_low || i > nr_high || serial < serial_low || serial > serial_high) continue;
        if (product_code(i) < product_low || product_code(i) > product_high) continue;
        if (devs[i].open && !used) continue;
        tUcanHardwareInfoEx info;
        memset(&info, 0, sizeof info);
        info.m_dwSize = sizeof info;
        info.m_bDeviceNr = (BYTE)i;
        info.m_dwSerialNr = serial;
        info.m_dwFwVersionEx = 0x00000605; /* 5.6 */
        info.m_dwProductCode = product_code(i);
        tUcanHardwareInitInfo init;
        memset(&init, 0, sizeof init);
        init.m_dwSize = sizeof init;
        if (callback) callback(found, devs[i].open, &info, &init, arg);
        found++;
    }
    return found;
}

EXPORT BYTE UcanGetHardwareInfoEx2(tUcanHandle h, tUcanHardwareInfoEx *info, void *ch0, void *ch1) {
    (void)ch0; /* tUcanChannelInfo is not filled by the simulation */
    (void)ch1;
    module_t *d = dev_of(h);
    if (!d) return USBCAN_ERR_ILLHANDLE;
    if (!info || info->m_dwSize < 0x12) return USBCAN_ERR_ILLPARAM;
    int device = (int)(d - devs);
    DWORD size = info->m_dwSize;
    memset(info, 0, size < sizeof *info ? size : sizeof *info);
    info->m_dwSize = size;
    info->m_UcanHandle = h;
    info->m_bDeviceNr = (BYTE)device;
    info->m_dwSerialNr = 100000u + (DWORD)device;
    info->m_dwFwVersionEx = 0x00000605;
    info->m_dwProductCode = product_code(device);
    return USBCAN_SUCCESSFUL;
}
