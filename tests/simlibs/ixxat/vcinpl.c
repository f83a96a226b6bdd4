/*
 * A simulated IXXAT VCI V3 library (vcinpl.dll), on simcore.
 *
 * Functions, structures (VCIDEVICEINFO, CANCAPABILITIES, CANLINESTATUS, CANCHANSTATUS,
 * CANMSG, CANCYCLICTXMSG), message types and flags, operating modes, status bits and the
 * HRESULT codes (SEV_VCI_ERROR | n) are those of IXXAT's public VCI V3 C-API headers
 * (vcinpl.h, cantype.h, vcierr.h) and their Delphi translation Vci3Can.pas.
 *
 * Simulation: two devices ("HW000001", "HW000002") with two CAN controllers each; controller
 * n of every device is wired to simcore channel n. A message channel receives what its
 * controller accepts once the controller is started: the acceptance filter (code/mask over
 * (id << 1) | rtr, all accepted after canControlInitialize) or an id of the filter list.
 * The operating mode's STANDARD/EXTENDED bits select what is received (the header: "reception of
 * 11-bit / 29-bit id messages"); either kind can be sent. Messages sent with CAN_MSGFLAGS_SRR
 * come back to the sender. Timestamps count 1 us ticks
 * (dwClockFreq 1 MHz, dwTscDivisor 1); the cyclic scheduler ticks every 1 ms (dwCmsDivisor
 * 1000) and is served by a thread of its own. A bus-off controller's channels refuse to post
 * with VCI_E_TXQUEUE_FULL; injected error frames arrive as CAN_MSGTYPE_ERROR messages.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "simcore.h"

#define EXPORT __attribute__((visibility("default")))

typedef int32_t HRESULT;
typedef void *HANDLE;
typedef int32_t BOOL;

#define SEV_VCI_ERROR ((HRESULT)0xE0010000u)
#define VCI_OK 0
#define VCI_E_INVALIDARG (SEV_VCI_ERROR | 0x0004)
#define VCI_E_INVHANDLE (SEV_VCI_ERROR | 0x0007)
#define VCI_E_ACCESSDENIED (SEV_VCI_ERROR | 0x000A)
#define VCI_E_TIMEOUT (SEV_VCI_ERROR | 0x000B)
#define VCI_E_BUSY (SEV_VCI_ERROR | 0x000C)
#define VCI_E_NO_MORE_ITEMS (SEV_VCI_ERROR | 0x000F)
#define VCI_E_NOT_INITIALIZED (SEV_VCI_ERROR | 0x0010)
#define VCI_E_RXQUEUE_EMPTY (SEV_VCI_ERROR | 0x0012)
#define VCI_E_TXQUEUE_FULL (SEV_VCI_ERROR | 0x0013)
#define VCI_E_INVALID_STATE (SEV_VCI_ERROR | 0x0015)

#define CAN_OPMODE_STANDARD 0x01
#define CAN_OPMODE_EXTENDED 0x02
#define CAN_OPMODE_ERRFRAME 0x04
#define CAN_OPMODE_LISTONLY 0x08
#define CAN_STATUS_ERRLIM 0x04
#define CAN_STATUS_BUSOFF 0x08
#define CAN_STATUS_ININIT 0x10
#define CAN_MSGTYPE_DATA 0
#define CAN_MSGTYPE_ERROR 2
#define CAN_MSGFLAGS_DLC 0x0F
#define CAN_MSGFLAGS_SRR 0x20
#define CAN_MSGFLAGS_RTR 0x40
#define CAN_MSGFLAGS_EXT 0x80
#define CAN_ERROR_OTHER 7
#define INFINITE 0xFFFFFFFFu

typedef struct {
    uint32_t LowPart;
    int32_t HighPart;
} VCIID_PARTS;
typedef union {
    VCIID_PARTS AsLuid;
    int64_t AsInt64;
} VCIID;
typedef struct {
    uint8_t bytes[16];
} GUID;
typedef struct {
    VCIID VciObjectId;
    GUID DeviceClass;
    uint16_t DriverMajorVersion, DriverMinorVersion, HardwareMajorVersion, HardwareMinorVersion;
    union {
        GUID AsGuid;
        char AsChar[16];
    } UniqueHardwareId;
    char Description[128];
    char Manufacturer[128];
} VCIDEVICEINFO;
typedef struct {
    uint16_t wCtrlType, wBusCoupling;
    uint32_t dwFeatures, dwClockFreq, dwTscDivisor, dwCmsDivisor, dwCmsMaxTicks, dwDtxDivisor,
        dwDtxMaxTicks;
} CANCAPABILITIES;
typedef struct {
    uint8_t bOpMode, bBtReg0, bBtReg1, bBusLoad;
    uint32_t dwStatus;
} CANLINESTATUS;
typedef struct {
    CANLINESTATUS sLineStatus;
    BOOL fActivated;
    BOOL fRxOverrun;
    uint8_t bRxFifoLoad, bTxFifoLoad;
} CANCHANSTATUS;
typedef struct {
    uint8_t bType, bRes, bFlags, bAccept;
} CANMSGINFO;
typedef struct {
    uint32_t dwTime;
    uint32_t dwMsgId;
    CANMSGINFO uMsgInfo;
    uint8_t abData[8];
} CANMSG;
typedef struct {
    uint16_t wCycleTime;
    uint8_t bIncrMode, bByteIndex;
    uint32_t dwMsgId;
    CANMSGINFO uMsgInfo;
    uint8_t abData[8];
} CANCYCLICTXMSG;

#define DEVICES 2
#define CONTROLLERS 2
#define MAX_OBJECTS 64
#define MAX_FILTER_IDS 64
#define CYCLIC_SLOTS 16

enum kind { FREE, ENUMERATOR, DEVICE, CONTROL, CHANNEL, SCHEDULER };

typedef struct {
    int initialised, started;
    uint8_t mode, bt0, bt1;
    uint32_t code[2], mask[2]; /* [0] standard, [1] extended */
    uint32_t ids[2][MAX_FILTER_IDS][2];
    int nids[2];
    int owner; /* object index of the controlling handle, -1 */
} controller_t;

typedef struct {
    int used;
    uint16_t cycle;
    uint32_t repeat, sent;
    int running;
    CANMSG msg;
    struct timespec next;
} cyclic_t;

typedef struct {
    enum kind kind;
    int device, ctl, port, activated, position;
    cyclic_t slots[CYCLIC_SLOTS];
    int sched_active;
    pthread_t thread;
    volatile int stop;
} object_t;

static object_t objects[MAX_OBJECTS];
static controller_t controllers[DEVICES][CONTROLLERS] = {{{.owner = -1}, {.owner = -1}},
                                                         {{.owner = -1}, {.owner = -1}}};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static HANDLE handle_of(int index) { return (HANDLE)(uintptr_t)(0x1000 + index); }

static object_t *get(HANDLE h, enum kind kind) {
    uintptr_t v = (uintptr_t)h;
    if (v < 0x1000 || v >= 0x1000 + MAX_OBJECTS) return NULL;
    object_t *o = &objects[v - 0x1000];
    return o->kind == kind ? o : NULL;
}

static int new_object(enum kind kind) {
    for (int i = 0; i < MAX_OBJECTS; i++) {
        if (objects[i].kind == FREE) {
            memset(&objects[i], 0, sizeof objects[i]);
            objects[i].kind = kind;
            objects[i].port = -1;
            return i;
        }
    }
    return -1;
}

EXPORT HRESULT vciInitialize(void) { return VCI_OK; }

static const char *texts(HRESULT hr) {
    switch (hr) {
    case VCI_E_INVALIDARG: return "One or more arguments are invalid.";
    case VCI_E_INVHANDLE: return "Invalid handle";
    case VCI_E_ACCESSDENIED: return "Access is denied.";
    case VCI_E_TIMEOUT: return "This operation returned because the timeout period expired.";
    case VCI_E_BUSY: return "The requested resource is in use.";
    case VCI_E_NO_MORE_ITEMS: return "No more entries are available from an enumeration operation.";
    case VCI_E_NOT_INITIALIZED: return "The component is not initialized.";
    case VCI_E_RXQUEUE_EMPTY: return "Receive queue empty.";
    case VCI_E_TXQUEUE_FULL: return "Transmit queue full.";
    case VCI_E_INVALID_STATE: return "Invalid state.";
    default: return NULL;
    }
}

EXPORT void vciFormatError(HRESULT hr, char *text, uint32_t size) {
    if (!text || !size) return;
    const char *t = texts(hr);
    if (t) snprintf(text, size, "%s", t);
    else snprintf(text, size, "VCI error 0x%08X", (unsigned)hr);
}

EXPORT HRESULT vciEnumDeviceOpen(HANDLE *h) {
    if (!h) return VCI_E_INVALIDARG;
    pthread_mutex_lock(&lock);
    int i = new_object(ENUMERATOR);
    pthread_mutex_unlock(&lock);
    if (i < 0) return VCI_E_BUSY;
    *h = handle_of(i);
    return VCI_OK;
}

EXPORT HRESULT vciEnumDeviceNext(HANDLE h, VCIDEVICEINFO *info) {
    object_t *o = get(h, ENUMERATOR);
    if (!o) return VCI_E_INVHANDLE;
    if (!info) return VCI_E_INVALIDARG;
    if (o->position >= DEVICES) return VCI_E_NO_MORE_ITEMS;
    int d = o->position++;
    memset(info, 0, sizeof *info);
    info->VciObjectId.AsInt64 = 100 + d;
    info->DriverMajorVersion = 4;
    info->HardwareMajorVersion = 2;
    snprintf(info->UniqueHardwareId.AsChar, sizeof info->UniqueHardwareId.AsChar, "HW%06d", d + 1);
    snprintf(info->Description, sizeof info->Description, "USB-to-CAN V2 compact (simulated)");
    snprintf(info->Manufacturer, sizeof info->Manufacturer, "IXXAT Automation GmbH");
    return VCI_OK;
}

EXPORT HRESULT vciEnumDeviceClose(HANDLE h) {
    object_t *o = get(h, ENUMERATOR);
    if (!o) return VCI_E_INVHANDLE;
    o->kind = FREE;
    return VCI_OK;
}

EXPORT HRESULT vciDeviceOpen(const VCIID *id, HANDLE *h) {
    if (!id || !h) return VCI_E_INVALIDARG;
    int d = (int)(id->AsInt64 - 100);
    if (d < 0 || d >= DEVICES) return VCI_E_INVALIDARG;
    pthread_mutex_lock(&lock);
    int i = new_object(DEVICE);
    if (i >= 0) objects[i].device = d;
    pthread_mutex_unlock(&lock);
    if (i < 0) return VCI_E_BUSY;
    *h = handle_of(i);
    return VCI_OK;
}

EXPORT HRESULT vciDeviceClose(HANDLE h) {
    object_t *o = get(h, DEVICE);
    if (!o) return VCI_E_INVHANDLE;
    o->kind = FREE;
    return VCI_OK;
}

static controller_t *ctl_of(object_t *o) { return &controllers[o->device][o->ctl]; }

EXPORT HRESULT canControlOpen(HANDLE hdev, uint32_t no, HANDLE *h) {
    object_t *dev = get(hdev, DEVICE);
    if (!dev) return VCI_E_INVHANDLE;
    if (!h || no >= CONTROLLERS) return VCI_E_INVALIDARG;
    pthread_mutex_lock(&lock);
    controller_t *c = &controllers[dev->device][no];
    if (c->owner >= 0) {
        pthread_mutex_unlock(&lock);
        return VCI_E_ACCESSDENIED; /* another application controls it */
    }
    int i = new_object(CONTROL);
    if (i >= 0) {
        objects[i].device = dev->device;
        objects[i].ctl = (int)no;
        c->owner = i;
    }
    pthread_mutex_unlock(&lock);
    if (i < 0) return VCI_E_BUSY;
    *h = handle_of(i);
    return VCI_OK;
}

static void set_channels_on_bus(int device, int ctl, int on) {
    for (int i = 0; i < MAX_OBJECTS; i++) {
        object_t *o = &objects[i];
        if (o->kind == CHANNEL && o->device == device && o->ctl == ctl && o->port >= 0)
            sim_port_set_on_bus(o->port, on && o->activated);
    }
}

EXPORT HRESULT canControlClose(HANDLE h) {
    object_t *o = get(h, CONTROL);
    if (!o) return VCI_E_INVHANDLE;
    pthread_mutex_lock(&lock);
    controller_t *c = ctl_of(o);
    c->owner = -1;
    o->kind = FREE;
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

EXPORT HRESULT canControlGetCaps(HANDLE h, CANCAPABILITIES *caps) {
    object_t *o = get(h, CONTROL);
    if (!o) o = get(h, CHANNEL);
    if (!o) o = get(h, SCHEDULER);
    if (!o) return VCI_E_INVHANDLE;
    if (!caps) return VCI_E_INVALIDARG;
    memset(caps, 0, sizeof *caps);
    caps->wCtrlType = 1; /* SJA1000 */
    caps->dwClockFreq = 1000000;
    caps->dwTscDivisor = 1;
    caps->dwCmsDivisor = 1000;
    caps->dwCmsMaxTicks = 0xFFFF;
    return VCI_OK;
}

EXPORT HRESULT canControlInitialize(HANDLE h, uint8_t mode, uint8_t bt0, uint8_t bt1) {
    object_t *o = get(h, CONTROL);
    if (!o) return VCI_E_INVHANDLE;
    if (bt1 == 0) return VCI_E_INVALIDARG;
    pthread_mutex_lock(&lock);
    controller_t *c = ctl_of(o);
    c->initialised = 1;
    c->started = 0;
    c->mode = mode;
    c->bt0 = bt0;
    c->bt1 = bt1;
    memset(c->code, 0, sizeof c->code); /* CAN_ACC_CODE_ALL / CAN_ACC_MASK_ALL */
    memset(c->mask, 0, sizeof c->mask);
    c->nids[0] = c->nids[1] = 0;
    set_channels_on_bus(o->device, o->ctl, 0);
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

EXPORT HRESULT canControlStart(HANDLE h, BOOL start) {
    object_t *o = get(h, CONTROL);
    if (!o) return VCI_E_INVHANDLE;
    pthread_mutex_lock(&lock);
    controller_t *c = ctl_of(o);
    if (!c->initialised) {
        pthread_mutex_unlock(&lock);
        return VCI_E_NOT_INITIALIZED;
    }
    c->started = start != 0;
    set_channels_on_bus(o->device, o->ctl, c->started);
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

EXPORT HRESULT canControlReset(HANDLE h) {
    object_t *o = get(h, CONTROL);
    if (!o) return VCI_E_INVHANDLE;
    pthread_mutex_lock(&lock);
    controller_t *c = ctl_of(o);
    c->started = 0;
    c->initialised = 0;
    set_channels_on_bus(o->device, o->ctl, 0);
    pthread_mutex_unlock(&lock);
    sim_channel_reset(o->ctl);
    return VCI_OK;
}

EXPORT HRESULT canControlSetAccFilter(HANDLE h, BOOL ext, uint32_t code, uint32_t mask) {
    object_t *o = get(h, CONTROL);
    if (!o) return VCI_E_INVHANDLE;
    pthread_mutex_lock(&lock);
    controller_t *c = ctl_of(o);
    c->code[ext ? 1 : 0] = code;
    c->mask[ext ? 1 : 0] = mask;
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

EXPORT HRESULT canControlAddFilterIds(HANDLE h, BOOL ext, uint32_t code, uint32_t mask) {
    object_t *o = get(h, CONTROL);
    if (!o) return VCI_E_INVHANDLE;
    pthread_mutex_lock(&lock);
    controller_t *c = ctl_of(o);
    int k = ext ? 1 : 0;
    if (c->nids[k] >= MAX_FILTER_IDS) {
        pthread_mutex_unlock(&lock);
        return VCI_E_BUSY;
    }
    c->ids[k][c->nids[k]][0] = code;
    c->ids[k][c->nids[k]][1] = mask;
    c->nids[k]++;
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

EXPORT HRESULT canControlGetStatus(HANDLE h, CANLINESTATUS *status) {
    object_t *o = get(h, CONTROL);
    if (!o) o = get(h, CHANNEL);
    if (!o) return VCI_E_INVHANDLE;
    if (!status) return VCI_E_INVALIDARG;
    controller_t *c = ctl_of(o);
    memset(status, 0, sizeof *status);
    status->bOpMode = c->mode;
    status->bBtReg0 = c->bt0;
    status->bBtReg1 = c->bt1;
    int state = SIM_ACTIVE;
    sim_channel_state(o->ctl, &state, NULL, NULL);
    if (state == SIM_BUSOFF) status->dwStatus |= CAN_STATUS_BUSOFF;
    if (state == SIM_WARNING || state == SIM_PASSIVE) status->dwStatus |= CAN_STATUS_ERRLIM;
    if (!c->started) status->dwStatus |= CAN_STATUS_ININIT;
    return VCI_OK;
}

/* acceptance for a message channel (ctx = its object) */
static int accept(const sim_frame *frame, void *ctx) {
    const object_t *o = ctx;
    const controller_t *c = &controllers[o->device][o->ctl];
    if (frame->flags & SIM_ERR) return (c->mode & CAN_OPMODE_ERRFRAME) != 0;
    int k = (frame->flags & SIM_EXT) ? 1 : 0;
    if (k && !(c->mode & CAN_OPMODE_EXTENDED)) return 0;
    if (!k && !(c->mode & CAN_OPMODE_STANDARD)) return 0;
    uint32_t bits = (frame->id << 1) | ((frame->flags & SIM_RTR) ? 1u : 0u);
    if ((bits & c->mask[k]) == (c->code[k] & c->mask[k])) return 1;
    for (int i = 0; i < c->nids[k]; i++)
        if ((bits & c->ids[k][i][1]) == (c->ids[k][i][0] & c->ids[k][i][1])) return 1;
    return 0;
}

EXPORT HRESULT canChannelOpen(HANDLE hdev, uint32_t no, BOOL exclusive, HANDLE *h) {
    (void)exclusive;
    object_t *dev = get(hdev, DEVICE);
    if (!dev) return VCI_E_INVHANDLE;
    if (!h || no >= CONTROLLERS) return VCI_E_INVALIDARG;
    pthread_mutex_lock(&lock);
    int i = new_object(CHANNEL);
    if (i >= 0) {
        objects[i].device = dev->device;
        objects[i].ctl = (int)no;
    }
    pthread_mutex_unlock(&lock);
    if (i < 0) return VCI_E_BUSY;
    *h = handle_of(i);
    return VCI_OK;
}

EXPORT HRESULT canChannelInitialize(HANDLE h, uint16_t rx_size, uint16_t rx_threshold,
                                    uint16_t tx_size, uint16_t tx_threshold) {
    (void)rx_threshold;
    (void)tx_size;
    (void)tx_threshold;
    object_t *o = get(h, CHANNEL);
    if (!o) return VCI_E_INVHANDLE;
    if (rx_size == 0) return VCI_E_INVALIDARG;
    if (o->port >= 0) sim_port_close(o->port);
    o->port = sim_port_open(o->ctl, rx_size);
    if (o->port < 0) return VCI_E_BUSY;
    sim_port_set_accept(o->port, accept, o);
    sim_port_set_on_bus(o->port, 0);
    return VCI_OK;
}

EXPORT HRESULT canChannelActivate(HANDLE h, BOOL enable) {
    object_t *o = get(h, CHANNEL);
    if (!o) return VCI_E_INVHANDLE;
    if (o->port < 0) return VCI_E_NOT_INITIALIZED;
    pthread_mutex_lock(&lock);
    o->activated = enable != 0;
    sim_port_set_on_bus(o->port, o->activated && ctl_of(o)->started);
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

EXPORT HRESULT canChannelClose(HANDLE h) {
    object_t *o = get(h, CHANNEL);
    if (!o) return VCI_E_INVHANDLE;
    if (o->port >= 0) sim_port_close(o->port);
    o->kind = FREE;
    return VCI_OK;
}

EXPORT HRESULT canChannelGetStatus(HANDLE h, CANCHANSTATUS *status) {
    object_t *o = get(h, CHANNEL);
    if (!o) return VCI_E_INVHANDLE;
    if (!status) return VCI_E_INVALIDARG;
    memset(status, 0, sizeof *status);
    canControlGetStatus(h, &status->sLineStatus);
    status->fActivated = o->activated;
    status->fRxOverrun = o->port >= 0 && sim_port_overrun(o->port, 0);
    return VCI_OK;
}

static int to_frame(const CANMSG *m, sim_frame *f) {
    uint8_t flags = m->uMsgInfo.bFlags;
    int ext = (flags & CAN_MSGFLAGS_EXT) != 0;
    uint8_t dlc = flags & CAN_MSGFLAGS_DLC;
    if (m->uMsgInfo.bType != CAN_MSGTYPE_DATA || dlc > 8) return 0;
    if (m->dwMsgId > (ext ? 0x1FFFFFFFu : 0x7FFu)) return 0;
    memset(f, 0, sizeof *f);
    f->id = m->dwMsgId;
    f->flags = (ext ? SIM_EXT : 0) | ((flags & CAN_MSGFLAGS_RTR) ? SIM_RTR : 0);
    f->len = dlc;
    if (!(flags & CAN_MSGFLAGS_RTR)) memcpy(f->data, m->abData, dlc);
    return 1;
}

static HRESULT post(object_t *o, const CANMSG *m) {
    controller_t *c = ctl_of(o);
    if (!c->started || !o->activated) return VCI_E_INVALID_STATE;
    if (c->mode & CAN_OPMODE_LISTONLY) return VCI_E_ACCESSDENIED;
    sim_frame f;
    if (!to_frame(m, &f)) return VCI_E_INVALIDARG;
    sim_port_set_echo(o->port, (m->uMsgInfo.bFlags & CAN_MSGFLAGS_SRR) != 0);
    int rc = sim_port_send(o->port, &f);
    if (rc == SIM_EBUSOFF) return VCI_E_TXQUEUE_FULL;
    return rc == SIM_OK ? VCI_OK : VCI_E_INVALID_STATE;
}

EXPORT HRESULT canChannelPostMessage(HANDLE h, CANMSG *m) {
    object_t *o = get(h, CHANNEL);
    if (!o) return VCI_E_INVHANDLE;
    if (!m || o->port < 0) return VCI_E_INVALIDARG;
    return post(o, m);
}

EXPORT HRESULT canChannelSendMessage(HANDLE h, uint32_t timeout, CANMSG *m) {
    (void)timeout; /* the simulated FIFO never stays full except at bus off */
    return canChannelPostMessage(h, m);
}

static void to_msg(const sim_frame *f, CANMSG *m, int ctl) {
    memset(m, 0, sizeof *m);
    m->dwTime = (uint32_t)f->time_us; /* 1 us ticks, 32 bits */
    if (f->flags & SIM_ERR) {
        m->uMsgInfo.bType = CAN_MSGTYPE_ERROR;
        m->uMsgInfo.bFlags = 2;
        m->abData[0] = CAN_ERROR_OTHER;
        int state = SIM_ACTIVE;
        sim_channel_state(ctl, &state, NULL, NULL);
        m->abData[1] = state == SIM_BUSOFF ? CAN_STATUS_BUSOFF : (state ? CAN_STATUS_ERRLIM : 0);
        return;
    }
    m->dwMsgId = f->id;
    m->uMsgInfo.bType = CAN_MSGTYPE_DATA;
    m->uMsgInfo.bFlags = (uint8_t)((f->len > 8 ? 8 : f->len) | ((f->flags & SIM_EXT) ? CAN_MSGFLAGS_EXT : 0) |
                                   ((f->flags & SIM_RTR) ? CAN_MSGFLAGS_RTR : 0) |
                                   ((f->flags & SIM_ECHO) ? CAN_MSGFLAGS_SRR : 0));
    memcpy(m->abData, f->data, f->len > 8 ? 8 : f->len);
}

EXPORT HRESULT canChannelReadMessage(HANDLE h, uint32_t timeout, CANMSG *m) {
    object_t *o = get(h, CHANNEL);
    if (!o) return VCI_E_INVHANDLE;
    if (!m || o->port < 0) return VCI_E_INVALIDARG;
    int ms = timeout == INFINITE ? -1 : (int)(timeout > 0x7fffffff ? 0x7fffffff : timeout);
    sim_frame f;
    int rc = sim_port_recv(o->port, &f, ms);
    if (rc < 0) return VCI_E_INVHANDLE;
    if (rc == 0) return ms == 0 ? VCI_E_RXQUEUE_EMPTY : VCI_E_TIMEOUT;
    to_msg(&f, m, o->ctl);
    return VCI_OK;
}

EXPORT HRESULT canChannelPeekMessage(HANDLE h, CANMSG *m) { return canChannelReadMessage(h, 0, m); }

/* -- cyclic scheduler ------------------------------------------------------------------- */

static void add_ms(struct timespec *t, uint32_t ms) {
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static int before(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *scheduler(void *p) {
    object_t *o = p;
    while (!o->stop) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timespec wake = now;
        add_ms(&wake, 5);
        pthread_mutex_lock(&lock);
        for (int i = 0; i < CYCLIC_SLOTS; i++) {
            cyclic_t *s = &o->slots[i];
            if (!s->used || !s->running || !o->sched_active) continue;
            if (!before(&now, &s->next)) {
                sim_frame f;
                if (to_frame(&s->msg, &f) && controllers[o->device][o->ctl].started) sim_port_send(o->port, &f);
                s->sent++;
                add_ms(&s->next, s->cycle); /* ticks of 1 ms: absolute deadlines */
                if (s->repeat && s->sent >= s->repeat) s->running = 0;
            }
            if (s->running && before(&s->next, &wake)) wake = s->next;
        }
        pthread_mutex_unlock(&lock);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, NULL);
    }
    return NULL;
}

EXPORT HRESULT canSchedulerOpen(HANDLE hdev, uint32_t no, HANDLE *h) {
    object_t *dev = get(hdev, DEVICE);
    if (!dev) return VCI_E_INVHANDLE;
    if (!h || no >= CONTROLLERS) return VCI_E_INVALIDARG;
    pthread_mutex_lock(&lock);
    int i = new_object(SCHEDULER);
    if (i >= 0) {
        objects[i].device = dev->device;
        objects[i].ctl = (int)no;
    }
    pthread_mutex_unlock(&lock);
    if (i < 0) return VCI_E_BUSY;
    object_t *o = &objects[i];
    o->port = sim_port_open((int)no, 1);
    sim_port_set_on_bus(o->port, 1);
    pthread_create(&o->thread, NULL, scheduler, o);
    *h = handle_of(i);
    return VCI_OK;
}

EXPORT HRESULT canSchedulerClose(HANDLE h) {
    object_t *o = get(h, SCHEDULER);
    if (!o) return VCI_E_INVHANDLE;
    o->stop = 1;
    pthread_join(o->thread, NULL);
    sim_port_close(o->port);
    o->kind = FREE;
    return VCI_OK;
}

EXPORT HRESULT canSchedulerGetCaps(HANDLE h, CANCAPABILITIES *caps) { return canControlGetCaps(h, caps); }

EXPORT HRESULT canSchedulerActivate(HANDLE h, BOOL enable) {
    object_t *o = get(h, SCHEDULER);
    if (!o) return VCI_E_INVHANDLE;
    pthread_mutex_lock(&lock);
    o->sched_active = enable != 0;
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

EXPORT HRESULT canSchedulerReset(HANDLE h) {
    object_t *o = get(h, SCHEDULER);
    if (!o) return VCI_E_INVHANDLE;
    pthread_mutex_lock(&lock);
    memset(o->slots, 0, sizeof o->slots);
    o->sched_active = 0;
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

EXPORT HRESULT canSchedulerAddMessage(HANDLE h, CANCYCLICTXMSG *msg, uint32_t *index) {
    object_t *o = get(h, SCHEDULER);
    if (!o) return VCI_E_INVHANDLE;
    if (!msg || !index || msg->wCycleTime == 0) return VCI_E_INVALIDARG;
    pthread_mutex_lock(&lock);
    for (uint32_t i = 0; i < CYCLIC_SLOTS; i++) {
        cyclic_t *s = &o->slots[i];
        if (s->used) continue;
        memset(s, 0, sizeof *s);
        s->used = 1;
        s->cycle = msg->wCycleTime;
        s->msg.dwMsgId = msg->dwMsgId;
        s->msg.uMsgInfo = msg->uMsgInfo;
        memcpy(s->msg.abData, msg->abData, 8);
        *index = i;
        pthread_mutex_unlock(&lock);
        return VCI_OK;
    }
    pthread_mutex_unlock(&lock);
    return VCI_E_BUSY;
}

EXPORT HRESULT canSchedulerStartMessage(HANDLE h, uint32_t index, uint16_t repeat) {
    object_t *o = get(h, SCHEDULER);
    if (!o) return VCI_E_INVHANDLE;
    if (index >= CYCLIC_SLOTS || !o->slots[index].used) return VCI_E_INVALIDARG;
    pthread_mutex_lock(&lock);
    cyclic_t *s = &o->slots[index];
    s->repeat = repeat;
    s->sent = 0;
    s->running = 1;
    clock_gettime(CLOCK_MONOTONIC, &s->next);
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

EXPORT HRESULT canSchedulerStopMessage(HANDLE h, uint32_t index) {
    object_t *o = get(h, SCHEDULER);
    if (!o) return VCI_E_INVHANDLE;
    if (index >= CYCLIC_SLOTS || !o->slots[index].used) return VCI_E_INVALIDARG;
    pthread_mutex_lock(&lock);
    o->slots[index].running = 0;
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

EXPORT HRESULT canSchedulerRemMessage(HANDLE h, uint32_t index) {
    object_t *o = get(h, SCHEDULER);
    if (!o) return VCI_E_INVHANDLE;
    if (index >= CYCLIC_SLOTS || !o->slots[index].used) return VCI_E_INVALIDARG;
    pthread_mutex_lock(&lock);
    o->slots[index].used = 0;
    o->slots[index].running = 0;
    pthread_mutex_unlock(&lock);
    return VCI_OK;
}

/* test helper: how many frames a scheduler slot has sent */
EXPORT uint32_t simixxat_cyclic_sent(HANDLE h, uint32_t index) {
    object_t *o = get(h, SCHEDULER);
    return (o && index < CYCLIC_SLOTS) ? o->slots[index].sent : 0;
}
