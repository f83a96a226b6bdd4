/*
 * A simulated PCAN-Basic library (libpcanbasic.so) on top of simcore: the CAN_* functions of
 * PEAK-System's PCANBasic.h with the semantics its documentation gives, so the pcan backend
 * is tested through exactly the ctypes path it uses with the real driver. Written for our
 * tests from the public header and documentation; no vendor code.
 *
 * The simulated hardware: PCAN_USBBUS1 .. PCAN_USBBUSn (n = 2 x simcore channels, at most 16)
 * are the channels of two-channel PCAN-USB Pro FD adapters whose two channels are wired
 * to one another: USBBUS1 and USBBUS2 share simcore channel 0, USBBUS3 and USBBUS4 channel 1,
 * and so on. So two buses in one process see each other's frames as two PCAN channels on one
 * cable would. Every other handle (PCAN_PCIBUS1, ...) names hardware that is not attached.
 *
 * What follows the documentation:
 *   - a handle is initialized once (CAN_Initialize with a BTR0BTR1 code, CAN_InitializeFD with
 *     the "f_clock=...,nom_brp=...,..." string) until CAN_Uninitialize; calls on a handle that
 *     is not initialized give PCAN_ERROR_INITIALIZE, a second initialization too;
 *   - CAN_Read on an empty queue gives PCAN_ERROR_QRCVEMPTY; classic calls on an FD channel
 *     and FD calls on a classic one give PCAN_ERROR_ILLOPERATION;
 *   - timestamps count from system start-up (CLOCK_MONOTONIC here), TPCANTimestamp in
 *     millis / millis_overflow / micros, TPCANTimestampFD in microseconds;
 *   - CAN_FilterMessages adds an ID range (the first call on an open filter replaces it);
 *     PCAN_MESSAGE_FILTER = PCAN_FILTER_OPEN / PCAN_FILTER_CLOSE resets it;
 *   - error frames (PCAN_MESSAGE_ERRFRAME; ID = error type, DATA[2] = RX and DATA[3] = TX
 *     error counter) arrive only with PCAN_ALLOW_ERROR_FRAMES on; status messages
 *     (PCAN_MESSAGE_STATUS) arrive with PCAN_ALLOW_STATUS_FRAMES on (its default) when the
 *     controller's state changes: LEN 4, DATA[0..3] the new TPCANStatus, most significant
 *     byte first (our reading of the documentation; the backend reads it that way too);
 *   - CAN_GetStatus gives the bus state (BUSWARNING, BUSPASSIVE, BUSOFF, or OK), or'ed with
 *     PCAN_ERROR_QOVERRUN once after the receive queue overflowed;
 *   - CAN_Write on a bus-off controller gives PCAN_ERROR_BUSOFF; with PCAN_BUSOFF_AUTORESET on
 *     the driver restarts a bus-off controller at once (and reports it with a status message);
 *   - CAN_Reset empties the queues (the header: "a reset of the CAN controller is not
 *     performed"); a new CAN_Initialize starts the controller again, error-active;
 *   - PCAN_RECEIVE_EVENT gives, on Linux, a file descriptor readable while frames wait;
 *   - PCAN_LISTEN_ONLY channels receive but refuse CAN_Write (PCAN_ERROR_ILLOPERATION).
 * SIMCAN_PCAN_QUEUE sets the receive queue length (default 32768 frames); SIMCAN_PCAN_TRACE=1
 * prints every call to stderr.
 */
#define _GNU_SOURCE
#include "pcanbasic_sim.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simcore.h"

#define SIMPCAN_STATUS 0x100u /* simcore flag bit private to this library: a status message */
#define MAX_USB 16
#define MAX_RANGES 64

typedef struct range {
    uint32_t from, to;
    uint8_t mode;
} range;

/* What the acceptance callback reads; replaced whole (never changed in place) under simcore's
 * lock through sim_port_set_accept, so the callback needs no lock of its own. */
typedef struct accept_cfg {
    int errors, status, rtr;
    int filter; /* PCAN_FILTER_* */
    int nranges;
    range ranges[MAX_RANGES];
} accept_cfg;

typedef struct handle_state {
    int initialized;
    int port;
    int fd_mode;
    uint16_t btr0btr1;
    char bitrate_fd[256];
    uint32_t nominal, data;
    /* Parameters that outlive an initialization (set before CAN_Initialize or kept by the
     * hardware). */
    uint32_t device_id;
    int listen_only, autoreset, echo, identifying;
    int errors, status, rtr;
    int filter;
    int nranges;
    range ranges[MAX_RANGES];
    accept_cfg *cfg;
} handle_state;

static pthread_mutex_t hlock = PTHREAD_MUTEX_INITIALIZER;
static handle_state handles[MAX_USB];
static int handles_ready;

static void trace(const char *fmt, ...) {
    static int enabled = -1;
    if (enabled < 0) {
        const char *t = getenv("SIMCAN_PCAN_TRACE");
        enabled = t && *t && strcmp(t, "0") != 0;
    }
    if (!enabled) return;
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "simpcan: ");
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

static void init_handles_locked(void) {
    if (handles_ready) return;
    for (int i = 0; i < MAX_USB; i++) {
        handles[i].port = -1;
        handles[i].device_id = (uint32_t)(i / 2 + 1); /* one id per two-channel adapter */
        handles[i].status = 1;                       /* PCAN_ALLOW_STATUS_FRAMES default */
        handles[i].rtr = 1;                          /* PCAN_ALLOW_RTR_FRAMES default */
        handles[i].filter = PCAN_FILTER_OPEN;
    }
    handles_ready = 1;
}

static int usb_count(void) {
    int n = 2 * sim_channel_count();
    return n > MAX_USB ? MAX_USB : n;
}

/* Index 0.. of an attached USB channel, or -1. */
static int index_of(TPCANHandle channel) {
    int i = -1;
    if (channel >= PCAN_USBBUS1 && channel <= PCAN_USBBUS8) i = channel - PCAN_USBBUS1;
    if (channel >= PCAN_USBBUS9 && channel <= PCAN_USBBUS16) i = 8 + channel - PCAN_USBBUS9;
    return i >= 0 && i < usb_count() ? i : -1;
}

static TPCANHandle handle_of(int index) {
    return (TPCANHandle)(index < 8 ? PCAN_USBBUS1 + index : PCAN_USBBUS9 + index - 8);
}

static pthread_once_t offset_once = PTHREAD_ONCE_INIT;
static uint64_t offset_us;

static void compute_offset(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t mono = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
    offset_us = mono - sim_now_us();
}

/* simcore's clock starts when the library is first used; the driver's counts from system
 * start-up, as CLOCK_MONOTONIC does. */
static uint64_t device_us(uint64_t sim_us) {
    pthread_once(&offset_once, compute_offset);
    return sim_us + offset_us;
}

static const uint8_t fd_lengths[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64};

static int len_to_dlc(int len) {
    for (int dlc = 0; dlc < 16; dlc++)
        if (fd_lengths[dlc] >= len) return dlc;
    return 15;
}

/* -- acceptance ------------------------------------------------------------------------ */

static int accept_frame(const sim_frame *frame, void *ctx) {
    const accept_cfg *cfg = ctx;
    if (frame->flags & SIMPCAN_STATUS) return cfg->status;
    if (frame->flags & SIM_ERR) return cfg->errors;
    if ((frame->flags & SIM_RTR) && !cfg->rtr) return 0;
    if (cfg->filter == PCAN_FILTER_OPEN) return 1;
    if (cfg->filter == PCAN_FILTER_CLOSE) return 0;
    uint8_t mode = (frame->flags & SIM_EXT) ? PCAN_MODE_EXTENDED : PCAN_MODE_STANDARD;
    for (int i = 0; i < cfg->nranges; i++) {
        const range *r = &cfg->ranges[i];
        if (r->mode == mode && frame->id >= r->from && frame->id <= r->to) return 1;
    }
    return 0;
}

/* Give the port a fresh copy of the handle's acceptance settings (hlock held). */
static TPCANStatus push_cfg_locked(handle_state *h) {
    if (!h->initialized) return PCAN_ERROR_OK;
    accept_cfg *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return PCAN_ERROR_RESOURCE;
    cfg->errors = h->errors;
    cfg->status = h->status;
    cfg->rtr = h->rtr;
    cfg->filter = h->filter;
    cfg->nranges = h->nranges;
    memcpy(cfg->ranges, h->ranges, sizeof cfg->ranges);
    sim_port_set_accept(h->port, accept_frame, cfg);
    sim_port_set_echo(h->port, h->echo);
    free(h->cfg); /* no callback can still hold it: the swap happened under simcore's lock */
    h->cfg = cfg;
    return PCAN_ERROR_OK;
}

/* -- initialization -------------------------------------------------------------------- */

static int queue_capacity(void) {
    const char *text = getenv("SIMCAN_PCAN_QUEUE");
    int n = text ? atoi(text) : 32768;
    return n < 1 ? 1 : n;
}

/* The nominal bit rate of an SJA1000 BTR0/BTR1 pair at the 8 MHz CAN clock, or 0. */
static uint32_t btr_speed(uint16_t btr0btr1) {
    uint32_t brp = ((btr0btr1 >> 8) & 0x3Fu) + 1u;
    uint32_t tseg1 = (btr0btr1 & 0x0Fu) + 1u;
    uint32_t tseg2 = ((btr0btr1 >> 4) & 0x07u) + 1u;
    uint32_t sjw = ((btr0btr1 >> 14) & 0x03u) + 1u;
    if (tseg1 < 2 || sjw > tseg2) return 0; /* not a bit timing a controller accepts */
    return 8000000u / (brp * (1u + tseg1 + tseg2));
}

static TPCANStatus start_locked(int index, int fd_mode) {
    handle_state *h = &handles[index];
    int port = sim_port_open(index / 2, queue_capacity());
    if (port < 0) return PCAN_ERROR_RESOURCE;
    h->port = port;
    h->initialized = 1;
    h->fd_mode = fd_mode;
    /* A new initialization starts the controller again. */
    int state = SIM_ACTIVE;
    sim_channel_state(index / 2, &state, NULL, NULL);
    if (state == SIM_BUSOFF) sim_channel_reset(index / 2);
    return push_cfg_locked(h);
}

TPCANStatus CAN_Initialize(TPCANHandle Channel, TPCANBaudrate Btr0Btr1, uint8_t HwType,
                           uint32_t IOPort, uint16_t Interrupt) {
    (void)HwType;
    (void)IOPort;
    (void)Interrupt;
    trace("CAN_Initialize(0x%x, 0x%04x)", Channel, Btr0Btr1);
    int index = index_of(Channel);
    if (index < 0) return PCAN_ERROR_ILLHW;
    uint32_t speed = btr_speed(Btr0Btr1);
    if (!speed) return PCAN_ERROR_ILLPARAMVAL;
    pthread_mutex_lock(&hlock);
    init_handles_locked();
    handle_state *h = &handles[index];
    TPCANStatus rc = PCAN_ERROR_INITIALIZE;
    if (!h->initialized) {
        h->btr0btr1 = Btr0Btr1;
        h->nominal = speed;
        h->data = speed;
        h->bitrate_fd[0] = 0;
        rc = start_locked(index, 0);
    }
    pthread_mutex_unlock(&hlock);
    return rc;
}

/* One "key=value" of the FD bit rate string. */
static const char *const fd_keys[] = {"f_clock", "f_clock_mhz", "nom_brp", "nom_tseg1",
                                      "nom_tseg2", "nom_sjw", "nom_sam", "data_brp",
                                      "data_tseg1", "data_tseg2", "data_sjw", "data_ssp_offset"};
#define N_FD_KEYS (sizeof fd_keys / sizeof fd_keys[0])

static TPCANStatus parse_fd(const char *text, uint32_t *nominal, uint32_t *data) {
    long values[N_FD_KEYS];
    int seen[N_FD_KEYS] = {0};
    if (!text || strlen(text) >= 256) return PCAN_ERROR_ILLPARAMVAL;
    char copy[256];
    strcpy(copy, text);
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) return PCAN_ERROR_ILLPARAMVAL;
        *eq = 0;
        char *key = item, *value = eq + 1;
        while (isspace((unsigned char)*key)) key++;
        char *end = key + strlen(key);
        while (end > key && isspace((unsigned char)end[-1])) *--end = 0;
        size_t k = 0;
        while (k < N_FD_KEYS && strcmp(fd_keys[k], key) != 0) k++;
        if (k == N_FD_KEYS || seen[k]) return PCAN_ERROR_ILLPARAMVAL;
        char *stop;
        long v = strtol(value, &stop, 10);
        while (isspace((unsigned char)*stop)) stop++;
        if (stop == value || *stop) return PCAN_ERROR_ILLPARAMVAL;
        values[k] = v;
        seen[k] = 1;
    }
    long clock;
    if (seen[0] && !seen[1]) clock = values[0];
    else if (seen[1] && !seen[0]) clock = values[1] * 1000000L;
    else return PCAN_ERROR_ILLPARAMVAL;
    static const long clocks[] = {20000000, 24000000, 30000000, 40000000, 60000000, 80000000};
    int clock_ok = 0;
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) clock_ok |= clock == clocks[i];
    /* nom_brp, nom_tseg1, nom_tseg2, nom_sjw, data_brp, data_tseg1, data_tseg2, data_sjw:
     * required, with the ranges of the PCAN-Basic documentation. */
    static const int required[] = {2, 3, 4, 5, 7, 8, 9, 10};
    static const long limits[] = {1024, 256, 128, 128, 1024, 32, 16, 16};
    if (!clock_ok) return PCAN_ERROR_ILLPARAMVAL;
    for (int i = 0; i < 8; i++) {
        int k = required[i];
        if (!seen[k] || values[k] < 1 || values[k] > limits[i]) return PCAN_ERROR_ILLPARAMVAL;
    }
    *nominal = (uint32_t)(clock / (values[2] * (1 + values[3] + values[4])));
    *data = (uint32_t)(clock / (values[7] * (1 + values[8] + values[9])));
    return PCAN_ERROR_OK;
}

TPCANStatus CAN_InitializeFD(TPCANHandle Channel, char *BitrateFD) {
    trace("CAN_InitializeFD(0x%x, \"%s\")", Channel, BitrateFD ? BitrateFD : "(null)");
    int index = index_of(Channel);
    if (index < 0) return PCAN_ERROR_ILLHW;
    uint32_t nominal, data;
    TPCANStatus rc = parse_fd(BitrateFD, &nominal, &data);
    if (rc != PCAN_ERROR_OK) return rc;
    pthread_mutex_lock(&hlock);
    init_handles_locked();
    handle_state *h = &handles[index];
    rc = PCAN_ERROR_INITIALIZE;
    if (!h->initialized) {
        h->btr0btr1 = 0;
        h->nominal = nominal;
        h->data = data;
        snprintf(h->bitrate_fd, sizeof h->bitrate_fd, "%s", BitrateFD);
        rc = start_locked(index, 1);
    }
    pthread_mutex_unlock(&hlock);
    return rc;
}

static void stop_locked(handle_state *h) {
    sim_port_close(h->port); /* wakes and fails anyone blocked on it */
    h->port = -1;
    h->initialized = 0;
    free(h->cfg);
    h->cfg = NULL;
}

TPCANStatus CAN_Uninitialize(TPCANHandle Channel) {
    trace("CAN_Uninitialize(0x%x)", Channel);
    pthread_mutex_lock(&hlock);
    init_handles_locked();
    TPCANStatus rc = PCAN_ERROR_OK;
    if (Channel == PCAN_NONEBUS) {
        for (int i = 0; i < MAX_USB; i++)
            if (handles[i].initialized) stop_locked(&handles[i]);
    } else {
        int index = index_of(Channel);
        if (index < 0 || !handles[index].initialized) rc = PCAN_ERROR_INITIALIZE;
        else stop_locked(&handles[index]);
    }
    pthread_mutex_unlock(&hlock);
    return rc;
}

/* The port of an initialized handle and its mode, or PCAN_ERROR_INITIALIZE. */
static TPCANStatus lookup(TPCANHandle Channel, int *port, int *fd_mode, int *listen_only) {
    int index = index_of(Channel);
    if (index < 0) return PCAN_ERROR_INITIALIZE;
    pthread_mutex_lock(&hlock);
    init_handles_locked();
    handle_state *h = &handles[index];
    TPCANStatus rc = PCAN_ERROR_INITIALIZE;
    if (h->initialized) {
        *port = h->port;
        if (fd_mode) *fd_mode = h->fd_mode;
        if (listen_only) *listen_only = h->listen_only;
        rc = PCAN_ERROR_OK;
    }
    pthread_mutex_unlock(&hlock);
    return rc;
}

TPCANStatus CAN_Reset(TPCANHandle Channel) {
    trace("CAN_Reset(0x%x)", Channel);
    int port;
    TPCANStatus rc = lookup(Channel, &port, NULL, NULL);
    if (rc != PCAN_ERROR_OK) return rc;
    sim_port_clear(port);
    sim_port_overrun(port, 1);
    return PCAN_ERROR_OK;
}

static TPCANStatus status_of_state(int state) {
    switch (state) {
    case SIM_WARNING: return PCAN_ERROR_BUSWARNING;
    case SIM_PASSIVE: return PCAN_ERROR_BUSPASSIVE;
    case SIM_BUSOFF: return PCAN_ERROR_BUSOFF;
    default: return PCAN_ERROR_OK;
    }
}

TPCANStatus CAN_GetStatus(TPCANHandle Channel) {
    int port;
    TPCANStatus rc = lookup(Channel, &port, NULL, NULL);
    if (rc != PCAN_ERROR_OK) return rc;
    int state = SIM_ACTIVE;
    sim_channel_state(sim_port_channel(port), &state, NULL, NULL);
    rc = status_of_state(state);
    if (sim_port_overrun(port, 1) == 1) rc |= PCAN_ERROR_QOVERRUN;
    trace("CAN_GetStatus(0x%x) = 0x%x", Channel, rc);
    return rc;
}

/* -- frames ---------------------------------------------------------------------------- */

static uint8_t msgtype_of(uint32_t flags) {
    uint8_t t = PCAN_MESSAGE_STANDARD;
    if (flags & SIM_EXT) t |= PCAN_MESSAGE_EXTENDED;
    if (flags & SIM_RTR) t |= PCAN_MESSAGE_RTR;
    if (flags & SIM_FD) t |= PCAN_MESSAGE_FD;
    if (flags & SIM_BRS) t |= PCAN_MESSAGE_BRS;
    if (flags & SIM_ESI) t |= PCAN_MESSAGE_ESI;
    if (flags & SIM_ECHO) t |= PCAN_MESSAGE_ECHO;
    if (flags & SIM_ERR) t = PCAN_MESSAGE_ERRFRAME;
    if (flags & SIMPCAN_STATUS) t = PCAN_MESSAGE_STATUS;
    return t;
}

/* The next frame this mode can represent (an FD frame on a classic channel is an error on
 * the wire, not a frame: it is skipped). 1, 0 (empty) or PCAN_ERROR_INITIALIZE. */
static long next_frame(int port, int fd_mode, sim_frame *frame) {
    for (;;) {
        int got = sim_port_recv(port, frame, 0);
        if (got < 0) return -1;
        if (got == 0) return 0;
        if (fd_mode || !(frame->flags & SIM_FD)) return 1;
    }
}

TPCANStatus CAN_Read(TPCANHandle Channel, TPCANMsg *MessageBuffer, TPCANTimestamp *TimestampBuffer) {
    int port, fd_mode;
    TPCANStatus rc = lookup(Channel, &port, &fd_mode, NULL);
    if (rc != PCAN_ERROR_OK) return rc;
    if (!MessageBuffer) return PCAN_ERROR_ILLPARAMVAL;
    if (fd_mode) return PCAN_ERROR_ILLOPERATION;
    sim_frame frame;
    long got = next_frame(port, 0, &frame);
    if (got < 0) return PCAN_ERROR_INITIALIZE;
    if (got == 0) return PCAN_ERROR_QRCVEMPTY;
    memset(MessageBuffer, 0, sizeof *MessageBuffer);
    MessageBuffer->ID = frame.id;
    MessageBuffer->MSGTYPE = msgtype_of(frame.flags);
    MessageBuffer->LEN = frame.len;
    memcpy(MessageBuffer->DATA, frame.data, frame.len > 8 ? 8 : frame.len);
    if (TimestampBuffer) {
        uint64_t us = device_us(frame.time_us);
        uint64_t ms = us / 1000u;
        TimestampBuffer->micros = (uint16_t)(us % 1000u);
        TimestampBuffer->millis = (uint32_t)(ms & 0xFFFFFFFFu);
        TimestampBuffer->millis_overflow = (uint16_t)(ms >> 32);
    }
    return PCAN_ERROR_OK;
}

TPCANStatus CAN_ReadFD(TPCANHandle Channel, TPCANMsgFD *MessageBuffer,
                       TPCANTimestampFD *TimestampBuffer) {
    int port, fd_mode;
    TPCANStatus rc = lookup(Channel, &port, &fd_mode, NULL);
    if (rc != PCAN_ERROR_OK) return rc;
    if (!MessageBuffer) return PCAN_ERROR_ILLPARAMVAL;
    if (!fd_mode) return PCAN_ERROR_ILLOPERATION;
    sim_frame frame;
    long got = next_frame(port, 1, &frame);
    if (got < 0) return PCAN_ERROR_INITIALIZE;
    if (got == 0) return PCAN_ERROR_QRCVEMPTY;
    memset(MessageBuffer, 0, sizeof *MessageBuffer);
    MessageBuffer->ID = frame.id;
    MessageBuffer->MSGTYPE = msgtype_of(frame.flags);
    MessageBuffer->DLC = (uint8_t)len_to_dlc(frame.len);
    memcpy(MessageBuffer->DATA, frame.data, frame.len);
    if (TimestampBuffer) *TimestampBuffer = device_us(frame.time_us);
    return PCAN_ERROR_OK;
}

static TPCANStatus send_frame(int port, int listen_only, sim_frame *frame) {
    if (listen_only) return PCAN_ERROR_ILLOPERATION;
    int rc = sim_port_send(port, frame);
    if (rc == SIM_EBUSOFF) return PCAN_ERROR_BUSOFF;
    if (rc == SIM_EBADPORT) return PCAN_ERROR_INITIALIZE;
    if (rc != SIM_OK) return PCAN_ERROR_ILLPARAMVAL;
    return PCAN_ERROR_OK;
}

static TPCANStatus check_id(uint32_t id, uint8_t msgtype) {
    uint32_t max = (msgtype & PCAN_MESSAGE_EXTENDED) ? 0x1FFFFFFFu : 0x7FFu;
    if (id > max) return PCAN_ERROR_ILLPARAMVAL;
    if (msgtype & (PCAN_MESSAGE_ERRFRAME | PCAN_MESSAGE_STATUS | PCAN_MESSAGE_ECHO))
        return PCAN_ERROR_ILLPARAMVAL;
    return PCAN_ERROR_OK;
}

TPCANStatus CAN_Write(TPCANHandle Channel, TPCANMsg *MessageBuffer) {
    int port, fd_mode, listen_only;
    TPCANStatus rc = lookup(Channel, &port, &fd_mode, &listen_only);
    if (rc != PCAN_ERROR_OK) return rc;
    if (!MessageBuffer || MessageBuffer->LEN > 8) return PCAN_ERROR_ILLPARAMVAL;
    if (fd_mode) return PCAN_ERROR_ILLOPERATION;
    uint8_t t = MessageBuffer->MSGTYPE;
    if (t & (PCAN_MESSAGE_FD | PCAN_MESSAGE_BRS | PCAN_MESSAGE_ESI)) return PCAN_ERROR_ILLPARAMVAL;
    rc = check_id(MessageBuffer->ID, t);
    if (rc != PCAN_ERROR_OK) return rc;
    sim_frame frame;
    memset(&frame, 0, sizeof frame);
    frame.id = MessageBuffer->ID;
    frame.flags = ((t & PCAN_MESSAGE_EXTENDED) ? SIM_EXT : 0u) | ((t & PCAN_MESSAGE_RTR) ? SIM_RTR : 0u);
    frame.len = MessageBuffer->LEN;
    if (!(t & PCAN_MESSAGE_RTR)) memcpy(frame.data, MessageBuffer->DATA, frame.len);
    return send_frame(port, listen_only, &frame);
}

TPCANStatus CAN_WriteFD(TPCANHandle Channel, TPCANMsgFD *MessageBuffer) {
    int port, fd_mode, listen_only;
    TPCANStatus rc = lookup(Channel, &port, &fd_mode, &listen_only);
    if (rc != PCAN_ERROR_OK) return rc;
    if (!MessageBuffer || MessageBuffer->DLC > 15) return PCAN_ERROR_ILLPARAMVAL;
    if (!fd_mode) return PCAN_ERROR_ILLOPERATION;
    uint8_t t = MessageBuffer->MSGTYPE;
    int fd = (t & PCAN_MESSAGE_FD) != 0;
    if (!fd && ((t & (PCAN_MESSAGE_BRS | PCAN_MESSAGE_ESI)) || MessageBuffer->DLC > 8))
        return PCAN_ERROR_ILLPARAMVAL;
    if (fd && (t & PCAN_MESSAGE_RTR)) return PCAN_ERROR_ILLPARAMVAL;
    rc = check_id(MessageBuffer->ID, t);
    if (rc != PCAN_ERROR_OK) return rc;
    sim_frame frame;
    memset(&frame, 0, sizeof frame);
    frame.id = MessageBuffer->ID;
    frame.flags = ((t & PCAN_MESSAGE_EXTENDED) ? SIM_EXT : 0u) | ((t & PCAN_MESSAGE_RTR) ? SIM_RTR : 0u) |
                  (fd ? SIM_FD : 0u) | ((t & PCAN_MESSAGE_BRS) ? SIM_BRS : 0u) |
                  ((t & PCAN_MESSAGE_ESI) ? SIM_ESI : 0u);
    frame.len = fd_lengths[MessageBuffer->DLC];
    if (!(t & PCAN_MESSAGE_RTR)) memcpy(frame.data, MessageBuffer->DATA, frame.len);
    return send_frame(port, listen_only, &frame);
}

TPCANStatus CAN_FilterMessages(TPCANHandle Channel, uint32_t FromID, uint32_t ToID, TPCANMode Mode) {
    trace("CAN_FilterMessages(0x%x, 0x%x, 0x%x, %u)", Channel, FromID, ToID, Mode);
    int index = index_of(Channel);
    if (index < 0) return PCAN_ERROR_INITIALIZE;
    if (Mode != PCAN_MODE_STANDARD && Mode != PCAN_MODE_EXTENDED) return PCAN_ERROR_ILLPARAMVAL;
    uint32_t max = Mode == PCAN_MODE_EXTENDED ? 0x1FFFFFFFu : 0x7FFu;
    if (FromID > ToID || ToID > max) return PCAN_ERROR_ILLPARAMVAL;
    pthread_mutex_lock(&hlock);
    init_handles_locked();
    handle_state *h = &handles[index];
    TPCANStatus rc = PCAN_ERROR_INITIALIZE;
    if (h->initialized) {
        if (h->filter != PCAN_FILTER_CUSTOM) h->nranges = 0;
        if (h->nranges == MAX_RANGES) {
            rc = PCAN_ERROR_RESOURCE;
        } else {
            h->filter = PCAN_FILTER_CUSTOM;
            h->ranges[h->nranges++] = (range){FromID, ToID, Mode};
            rc = push_cfg_locked(h);
        }
    }
    pthread_mutex_unlock(&hlock);
    return rc;
}

/* -- values ---------------------------------------------------------------------------- */

static TPCANStatus put_uint(void *buffer, uint32_t length, uint64_t value) {
    if (length >= 8) {
        memcpy(buffer, &value, 8);
    } else if (length >= 4) {
        uint32_t v = (uint32_t)value;
        memcpy(buffer, &v, 4);
    } else if (length >= 2) {
        uint16_t v = (uint16_t)value;
        memcpy(buffer, &v, 2);
    } else {
        *(uint8_t *)buffer = (uint8_t)value;
    }
    return PCAN_ERROR_OK;
}

static TPCANStatus put_text(void *buffer, uint32_t length, const char *text) {
    if (strlen(text) + 1 > length) return PCAN_ERROR_ILLPARAMVAL;
    strcpy(buffer, text);
    return PCAN_ERROR_OK;
}

static uint32_t get_uint(const void *buffer, uint32_t length) {
    if (length >= 4) {
        uint32_t v;
        memcpy(&v, buffer, 4);
        return v;
    }
    if (length >= 2) {
        uint16_t v;
        memcpy(&v, buffer, 2);
        return v;
    }
    return *(const uint8_t *)buffer;
}

static TPCANStatus attached(TPCANParameter Parameter, void *Buffer, uint32_t BufferLength) {
    int n = usb_count();
    if (Parameter == PCAN_ATTACHED_CHANNELS_COUNT) return put_uint(Buffer, BufferLength, (uint64_t)n);
    if (BufferLength < n * sizeof(TPCANChannelInformation)) return PCAN_ERROR_ILLPARAMVAL;
    TPCANChannelInformation *info = Buffer;
    for (int i = 0; i < n; i++) {
        memset(&info[i], 0, sizeof info[i]);
        info[i].channel_handle = handle_of(i);
        info[i].device_type = PCAN_USB;
        info[i].controller_number = (uint8_t)(i % 2);
        info[i].device_features = FEATURE_FD_CAPABLE;
        snprintf(info[i].device_name, sizeof info[i].device_name, "PCAN-USB Pro FD");
        info[i].device_id = handles[i].device_id;
        info[i].channel_condition =
            handles[i].initialized ? PCAN_CHANNEL_OCCUPIED : PCAN_CHANNEL_AVAILABLE;
    }
    return PCAN_ERROR_OK;
}

TPCANStatus CAN_GetValue(TPCANHandle Channel, TPCANParameter Parameter, void *Buffer,
                         uint32_t BufferLength) {
    trace("CAN_GetValue(0x%x, 0x%x, %u)", Channel, Parameter, BufferLength);
    if (!Buffer || BufferLength == 0) return PCAN_ERROR_ILLPARAMVAL;
    pthread_mutex_lock(&hlock);
    init_handles_locked();
    TPCANStatus rc = PCAN_ERROR_ILLPARAMTYPE;
    int index = index_of(Channel);
    handle_state *h = index >= 0 ? &handles[index] : NULL;
    switch (Parameter) {
    case PCAN_API_VERSION: rc = put_text(Buffer, BufferLength, "4.8.0.5"); break;
    case PCAN_ATTACHED_CHANNELS_COUNT:
    case PCAN_ATTACHED_CHANNELS: rc = attached(Parameter, Buffer, BufferLength); break;
    case PCAN_CHANNEL_CONDITION:
        rc = put_uint(Buffer, BufferLength,
                      !h ? PCAN_CHANNEL_UNAVAILABLE
                         : h->initialized ? PCAN_CHANNEL_OCCUPIED : PCAN_CHANNEL_AVAILABLE);
        break;
    default:
        if (!h) {
            rc = PCAN_ERROR_ILLHW;
            break;
        }
        switch (Parameter) {
        case PCAN_CHANNEL_FEATURES: rc = put_uint(Buffer, BufferLength, FEATURE_FD_CAPABLE); break;
        case PCAN_HARDWARE_NAME: rc = put_text(Buffer, BufferLength, "PCAN-USB Pro FD"); break;
        case PCAN_CHANNEL_VERSION: rc = put_text(Buffer, BufferLength, "simulated PCAN-USB Pro FD"); break;
        case PCAN_CONTROLLER_NUMBER: rc = put_uint(Buffer, BufferLength, (uint64_t)(index % 2)); break;
        case PCAN_DEVICE_ID: rc = put_uint(Buffer, BufferLength, h->device_id); break;
        case PCAN_LISTEN_ONLY: rc = put_uint(Buffer, BufferLength, (uint64_t)h->listen_only); break;
        case PCAN_BUSOFF_AUTORESET: rc = put_uint(Buffer, BufferLength, (uint64_t)h->autoreset); break;
        case PCAN_ALLOW_ECHO_FRAMES: rc = put_uint(Buffer, BufferLength, (uint64_t)h->echo); break;
        case PCAN_ALLOW_ERROR_FRAMES: rc = put_uint(Buffer, BufferLength, (uint64_t)h->errors); break;
        case PCAN_ALLOW_STATUS_FRAMES: rc = put_uint(Buffer, BufferLength, (uint64_t)h->status); break;
        case PCAN_ALLOW_RTR_FRAMES: rc = put_uint(Buffer, BufferLength, (uint64_t)h->rtr); break;
        case PCAN_CHANNEL_IDENTIFYING: rc = put_uint(Buffer, BufferLength, (uint64_t)h->identifying); break;
        case PCAN_MESSAGE_FILTER: rc = put_uint(Buffer, BufferLength, (uint64_t)h->filter); break;
        default:
            /* The rest describe a running channel. */
            if (!h->initialized) {
                rc = PCAN_ERROR_INITIALIZE;
            } else if (Parameter == PCAN_RECEIVE_EVENT) {
                rc = put_uint(Buffer, BufferLength, (uint64_t)sim_port_fd(h->port));
            } else if (Parameter == PCAN_BITRATE_INFO) {
                rc = h->fd_mode ? PCAN_ERROR_ILLOPERATION : put_uint(Buffer, BufferLength, h->btr0btr1);
            } else if (Parameter == PCAN_BITRATE_INFO_FD) {
                rc = h->fd_mode ? put_text(Buffer, BufferLength, h->bitrate_fd) : PCAN_ERROR_ILLOPERATION;
            } else if (Parameter == PCAN_BUSSPEED_NOMINAL) {
                rc = put_uint(Buffer, BufferLength, h->nominal);
            } else if (Parameter == PCAN_BUSSPEED_DATA) {
                rc = put_uint(Buffer, BufferLength, h->data);
            }
        }
    }
    pthread_mutex_unlock(&hlock);
    return rc;
}

TPCANStatus CAN_SetValue(TPCANHandle Channel, TPCANParameter Parameter, void *Buffer,
                         uint32_t BufferLength) {
    if (!Buffer || BufferLength == 0) return PCAN_ERROR_ILLPARAMVAL;
    uint32_t value = get_uint(Buffer, BufferLength);
    trace("CAN_SetValue(0x%x, 0x%x, %u)", Channel, Parameter, value);
    int index = index_of(Channel);
    if (index < 0) return PCAN_ERROR_ILLHW;
    pthread_mutex_lock(&hlock);
    init_handles_locked();
    handle_state *h = &handles[index];
    TPCANStatus rc = PCAN_ERROR_OK;
    int *flag = NULL;
    switch (Parameter) {
    case PCAN_DEVICE_ID: h->device_id = value; break;
    case PCAN_LISTEN_ONLY: flag = &h->listen_only; break;
    case PCAN_BUSOFF_AUTORESET: flag = &h->autoreset; break;
    case PCAN_ALLOW_ECHO_FRAMES: flag = &h->echo; break;
    case PCAN_ALLOW_ERROR_FRAMES: flag = &h->errors; break;
    case PCAN_ALLOW_STATUS_FRAMES: flag = &h->status; break;
    case PCAN_ALLOW_RTR_FRAMES: flag = &h->rtr; break;
    case PCAN_CHANNEL_IDENTIFYING: flag = &h->identifying; break;
    case PCAN_MESSAGE_FILTER:
        if (!h->initialized) rc = PCAN_ERROR_INITIALIZE;
        else if (value != PCAN_FILTER_OPEN && value != PCAN_FILTER_CLOSE) rc = PCAN_ERROR_ILLPARAMVAL;
        else {
            h->filter = (int)value;
            h->nranges = 0;
        }
        break;
    default: rc = PCAN_ERROR_ILLPARAMTYPE;
    }
    if (flag) {
        if (value > 1) rc = PCAN_ERROR_ILLPARAMVAL;
        else *flag = (int)value;
    }
    if (rc == PCAN_ERROR_OK) rc = push_cfg_locked(h);
    pthread_mutex_unlock(&hlock);
    return rc;
}

/* -- texts ----------------------------------------------------------------------------- */

static const struct {
    TPCANStatus code;
    const char *text;
} texts[] = {
    {PCAN_ERROR_OK, "No error. Success."},
    {PCAN_ERROR_XMTFULL, "The transmit buffer in CAN controller is full."},
    {PCAN_ERROR_OVERRUN, "The CAN controller was read too late."},
    {PCAN_ERROR_BUSLIGHT, "Bus error: an error counter reached the 'light' limit."},
    {PCAN_ERROR_BUSHEAVY, "Bus error: an error counter reached the 'heavy' limit."},
    {PCAN_ERROR_BUSPASSIVE, "Bus error: the CAN controller is error passive."},
    {PCAN_ERROR_BUSOFF, "Bus error: the CAN controller is in bus-off state."},
    {PCAN_ERROR_QRCVEMPTY, "The receive queue is empty."},
    {PCAN_ERROR_QOVERRUN, "The receive queue was read too late."},
    {PCAN_ERROR_QXMTFULL, "The transmit queue is full."},
    {PCAN_ERROR_REGTEST, "Test of the CAN controller hardware registers failed (no hardware found)."},
    {PCAN_ERROR_NODRIVER, "Driver not loaded."},
    {PCAN_ERROR_HWINUSE, "Hardware already in use by a Net."},
    {PCAN_ERROR_NETINUSE, "A Client is already connected to the Net."},
    {PCAN_ERROR_ILLHW, "Hardware handle is invalid."},
    {PCAN_ERROR_ILLNET, "Net handle is invalid."},
    {PCAN_ERROR_ILLCLIENT, "Client handle is invalid."},
    {PCAN_ERROR_RESOURCE, "Resource (FIFO, Client, timeout) cannot be created."},
    {PCAN_ERROR_ILLPARAMTYPE, "Invalid parameter."},
    {PCAN_ERROR_ILLPARAMVAL, "Invalid parameter value."},
    {PCAN_ERROR_UNKNOWN, "Unknown error."},
    {PCAN_ERROR_ILLDATA, "Invalid data, function, or action."},
    {PCAN_ERROR_ILLMODE, "Driver object state is wrong for the attempted operation."},
    {PCAN_ERROR_CAUTION, "An operation was successfully carried out, however, irregularities were registered."},
    {PCAN_ERROR_INITIALIZE, "Channel is not initialized."},
    {PCAN_ERROR_ILLOPERATION, "Invalid operation."},
};

TPCANStatus CAN_GetErrorText(TPCANStatus Error, uint16_t Language, char *Buffer) {
    (void)Language;
    if (!Buffer) return PCAN_ERROR_ILLPARAMVAL;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (texts[i].code == Error) {
            snprintf(Buffer, 256, "%s", texts[i].text); /* the documented buffer: 256 bytes */
            return PCAN_ERROR_OK;
        }
    }
    Buffer[0] = 0;
    return PCAN_ERROR_ILLPARAMVAL;
}

/* -- test control ---------------------------------------------------------------------- */

static void post_status(int channel, TPCANStatus status) {
    uint8_t data[4] = {(uint8_t)(status >> 24), (uint8_t)(status >> 16), (uint8_t)(status >> 8),
                       (uint8_t)status};
    simctl_inject_frame(channel, 0, SIMPCAN_STATUS, data, 4);
}

int simpcan_set_state(int channel, int state, int tx_errors, int rx_errors) {
    int rc = simctl_set_state(channel, state, tx_errors, rx_errors);
    if (rc != SIM_OK) return rc;
    post_status(channel, status_of_state(state));
    if (state == SIM_BUSOFF) {
        int autoreset = 0;
        pthread_mutex_lock(&hlock);
        init_handles_locked();
        for (int i = 2 * channel; i < 2 * channel + 2 && i < MAX_USB; i++)
            autoreset |= handles[i].initialized && handles[i].autoreset;
        pthread_mutex_unlock(&hlock);
        if (autoreset) {
            sim_channel_reset(channel);
            post_status(channel, PCAN_ERROR_OK);
        }
    }
    return SIM_OK;
}

void simpcan_reset(void) {
    CAN_Uninitialize(PCAN_NONEBUS);
    pthread_mutex_lock(&hlock);
    handles_ready = 0;
    memset(handles, 0, sizeof handles);
    init_handles_locked();
    pthread_mutex_unlock(&hlock);
    simctl_reset();
}
