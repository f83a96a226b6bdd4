/*
 * A simulated 8devices USB2CAN driver library (usb2can.dll), which exports the CANAL API of
 * the VSCP project, on simcore.
 *
 * Functions, structures (canalMsg, canalStatus, canalStatistics), flags, status-message codes,
 * channel status bits and error codes are those of the public CANAL header canal.h
 * (CANAL_IDFLAG_*, CANAL_STATUSMSG_*, CANAL_STATUS_*, CANAL_ERROR_*). CanalOpen takes the
 * configuration string "<serial>; <bitrate in kbit/s>" the USB2CAN driver documents.
 *
 * Simulation: the adapters whose serials SIMCAN_USB2CAN_SERIALS lists (comma separated,
 * default "ED000100,ED000200") are attached and wired to simcore channel 0. Timestamps are
 * microseconds since the library was loaded, in an unsigned long (32 bits on Windows, where
 * the real library runs, so they wrap after about 71.6 minutes; SIMCAN_USB2CAN_WRAP=1 makes the
 * simulation wrap at 2**32 too).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simcore.h"

#define EXPORT __attribute__((visibility("default")))

#define CANAL_IDFLAG_EXTENDED 0x00000001ul
#define CANAL_IDFLAG_RTR 0x00000002ul
#define CANAL_IDFLAG_STATUS 0x00000004ul
#define CANAL_STATUSMSG_OK 0x00
#define CANAL_STATUSMSG_OVERRUN 0x01
#define CANAL_STATUSMSG_BUSLIGHT 0x02
#define CANAL_STATUSMSG_BUSHEAVY 0x03
#define CANAL_STATUSMSG_BUSOFF 0x04
#define CANAL_STATUS_ACTIVE 0x10000000ul
#define CANAL_STATUS_BUS_WARN 0x20000000ul
#define CANAL_STATUS_PASSIVE 0x40000000ul
#define CANAL_STATUS_BUS_OFF 0x80000000ul
#define CANAL_ERROR_SUCCESS 0
#define CANAL_ERROR_BUS_OFF 2
#define CANAL_ERROR_CAN_ID 5
#define CANAL_ERROR_CAN_MESSAGE 6
#define CANAL_ERROR_FIFO_EMPTY 8
#define CANAL_ERROR_GENERIC 12
#define CANAL_ERROR_TIMEOUT 32
#define CANAL_ERROR_NOT_OPEN 33
#define CANAL_ERROR_PARAMETER 34

typedef struct structCanalMsg {
    unsigned long flags;
    unsigned long obid;
    unsigned long id;
    unsigned char sizeData;
    unsigned char data[8];
    unsigned long timestamp;
} canalMsg;

typedef struct structCanalStatistics {
    unsigned long cntReceiveFrames;
    unsigned long cntTransmitFrames;
    unsigned long cntReceiveData;
    unsigned long cntTransmitData;
    unsigned long cntOverruns;
    unsigned long cntBusWarnings;
    unsigned long cntBusOff;
} canalStatistics;

typedef struct structCanalStatus {
    unsigned long channel_status;
    unsigned long lasterrorcode;
    unsigned long lasterrorsubcode;
    char lasterrorstr[80];
} canalStatus;

#define MAX_HANDLES 16

typedef struct {
    int port; /* -1: free */
    char serial[16];
    canalStatistics stats;
    unsigned long last_error;
} handle_t;

static handle_t handles[MAX_HANDLES + 1]; /* handles 1..MAX_HANDLES; 0 is never valid */
static int initialised;

static void init_once(void) {
    if (initialised) return;
    for (int i = 0; i <= MAX_HANDLES; i++) handles[i].port = -1;
    initialised = 1;
}

static handle_t *get(long h) {
    init_once();
    if (h < 1 || h > MAX_HANDLES || handles[h].port < 0) return NULL;
    return &handles[h];
}

static int attached(const char *serial) {
    const char *list = getenv("SIMCAN_USB2CAN_SERIALS");
    if (!list) list = "ED000100,ED000200";
    size_t n = strlen(serial);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, serial, n) == 0) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

static unsigned long stamp(uint64_t time_us) {
    const char *wrap = getenv("SIMCAN_USB2CAN_WRAP");
    if (wrap && wrap[0] == '1') return (unsigned long)(uint32_t)time_us;
    return (unsigned long)time_us;
}

/* "ED000200; 500": the adapter's serial, then the bitrate in kbit/s. */
EXPORT long CanalOpen(const char *config, unsigned long flags) {
    (void)flags;
    init_once();
    if (!config) return -1;
    char serial[16] = {0};
    unsigned kbit = 0;
    if (sscanf(config, " %15[^; ] ; %u", serial, &kbit) != 2) return -1;
    static const unsigned rates[] = {10, 20, 50, 100, 125, 250, 500, 800, 1000};
    int ok = 0;
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) ok |= rates[i] == kbit;
    if (!ok || !attached(serial)) return -1;
    for (int h = 1; h <= MAX_HANDLES; h++)
        if (handles[h].port >= 0 && strcmp(handles[h].serial, serial) == 0) return -1;
    for (int h = 1; h <= MAX_HANDLES; h++) {
        if (handles[h].port >= 0) continue;
        int port = sim_port_open(0, 2048);
        if (port < 0) return -1;
        memset(&handles[h], 0, sizeof handles[h]);
        handles[h].port = port;
        snprintf(handles[h].serial, sizeof handles[h].serial, "%s", serial);
        return h;
    }
    return -1;
}

EXPORT int CanalClose(long h) {
    handle_t *d = get(h);
    if (!d) return CANAL_ERROR_NOT_OPEN;
    sim_port_close(d->port);
    d->port = -1;
    return CANAL_ERROR_SUCCESS;
}

static int send(handle_t *d, const canalMsg *msg) {
    if (!msg) return CANAL_ERROR_PARAMETER;
    if (msg->sizeData > 8) return CANAL_ERROR_CAN_MESSAGE;
    int ext = (msg->flags & CANAL_IDFLAG_EXTENDED) != 0;
    if (msg->id > (ext ? 0x1FFFFFFFul : 0x7FFul)) return CANAL_ERROR_CAN_ID;
    sim_frame frame;
    memset(&frame, 0, sizeof frame);
    frame.id = (uint32_t)msg->id;
    frame.flags = (ext ? SIM_EXT : 0) | ((msg->flags & CANAL_IDFLAG_RTR) ? SIM_RTR : 0);
    frame.len = msg->sizeData;
    if (!(frame.flags & SIM_RTR)) memcpy(frame.data, msg->data, msg->sizeData);
    int rc = sim_port_send(d->port, &frame);
    if (rc == SIM_EBUSOFF) {
        d->stats.cntBusOff++;
        return d->last_error = CANAL_ERROR_BUS_OFF;
    }
    if (rc != SIM_OK) return CANAL_ERROR_GENERIC;
    d->stats.cntTransmitFrames++;
    if (!(frame.flags & SIM_RTR)) d->stats.cntTransmitData += msg->sizeData;
    return CANAL_ERROR_SUCCESS;
}

EXPORT int CanalSend(long h, canalMsg *msg) {
    handle_t *d = get(h);
    return d ? send(d, msg) : CANAL_ERROR_NOT_OPEN;
}

EXPORT int CanalBlockingSend(long h, canalMsg *msg, unsigned long timeout) {
    (void)timeout; /* the simulated bus takes every frame at once */
    return CanalSend(h, msg);
}

static unsigned char status_code(int channel) {
    int state = SIM_ACTIVE;
    sim_channel_state(channel, &state, NULL, NULL);
    switch (state) {
    case SIM_BUSOFF: return CANAL_STATUSMSG_BUSOFF;
    case SIM_PASSIVE: return CANAL_STATUSMSG_BUSHEAVY;
    case SIM_WARNING: return CANAL_STATUSMSG_BUSLIGHT;
    default: return CANAL_STATUSMSG_OK;
    }
}

static int receive(long h, canalMsg *msg, int timeout_ms) {
    handle_t *d = get(h);
    if (!d) return CANAL_ERROR_NOT_OPEN;
    if (!msg) return CANAL_ERROR_PARAMETER;
    if (sim_port_overrun(d->port, 1)) d->stats.cntOverruns++;
    sim_frame frame;
    int got = sim_port_recv(d->port, &frame, timeout_ms);
    if (got != 1) return timeout_ms ? CANAL_ERROR_TIMEOUT : CANAL_ERROR_FIFO_EMPTY;
    memset(msg, 0, sizeof *msg);
    msg->timestamp = stamp(frame.time_us);
    if (frame.flags & SIM_ERR) {
        /* A status indication: the id holds the status-message code. */
        msg->flags = CANAL_IDFLAG_STATUS;
        msg->id = status_code(sim_port_channel(d->port));
        if (msg->id == CANAL_STATUSMSG_BUSLIGHT) d->stats.cntBusWarnings++;
        return CANAL_ERROR_SUCCESS;
    }
    msg->flags = ((frame.flags & SIM_EXT) ? CANAL_IDFLAG_EXTENDED : 0) |
                 ((frame.flags & SIM_RTR) ? CANAL_IDFLAG_RTR : 0);
    msg->id = frame.id;
    msg->sizeData = frame.len > 8 ? 8 : frame.len;
    memcpy(msg->data, frame.data, msg->sizeData);
    d->stats.cntReceiveFrames++;
    if (!(frame.flags & SIM_RTR)) d->stats.cntReceiveData += msg->sizeData;
    return CANAL_ERROR_SUCCESS;
}

EXPORT int CanalReceive(long h, canalMsg *msg) { return receive(h, msg, 0); }

EXPORT int CanalBlockingReceive(long h, canalMsg *msg, unsigned long timeout) {
    if (timeout > 0x7fffffff) timeout = 0x7fffffff;
    return receive(h, msg, timeout ? (int)timeout : -1);
}

EXPORT int CanalDataAvailable(long h) {
    handle_t *d = get(h);
    return d ? sim_port_pending(d->port) : 0;
}

EXPORT int CanalGetStatus(long h, canalStatus *status) {
    handle_t *d = get(h);
    if (!d) return CANAL_ERROR_NOT_OPEN;
    if (!status) return CANAL_ERROR_PARAMETER;
    memset(status, 0, sizeof *status);
    int state = SIM_ACTIVE, tx = 0, rx = 0;
    sim_channel_state(sim_port_channel(d->port), &state, &tx, &rx);
    unsigned long bits = CANAL_STATUS_ACTIVE;
    if (state == SIM_BUSOFF) bits = CANAL_STATUS_BUS_OFF;
    else if (state == SIM_PASSIVE) bits = CANAL_STATUS_PASSIVE;
    else if (state == SIM_WARNING) bits = CANAL_STATUS_BUS_WARN;
    (void)tx;
    (void)rx;
    status->channel_status = bits;
    status->lasterrorcode = d->last_error;
    snprintf(status->lasterrorstr, sizeof status->lasterrorstr, "%s",
             d->last_error == CANAL_ERROR_BUS_OFF ? "bus off" : "");
    return CANAL_ERROR_SUCCESS;
}

EXPORT int CanalGetStatistics(long h, canalStatistics *stats) {
    handle_t *d = get(h);
    if (!d) return CANAL_ERROR_NOT_OPEN;
    if (!stats) return CANAL_ERROR_PARAMETER;
    *stats = d->stats;
    return CANAL_ERROR_SUCCESS;
}

EXPORT unsigned long CanalGetVersion(void) { return 0x01000f00ul; }
EXPORT unsigned long CanalGetDllVersion(void) { return 0x01000600ul; }
EXPORT const char *CanalGetVendorString(void) { return "simulated 8devices USB2CAN"; }
