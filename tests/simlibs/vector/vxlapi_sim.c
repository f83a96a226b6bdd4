/*
 * A simulated Vector XL Driver Library (vxlapi64.dll's C API) on the simulated bus of
 * simcore.c, for testing can.interfaces.vector without Vector hardware. Function names and
 * signatures, constants and structure layouts follow Vector's public vxlapi.h (see
 * vxlapi_sim.h for the source); the behaviour follows the comments in that header. Where the
 * header leaves a status code open, the choice made here is marked "sim:".
 *
 * Simulated hardware: simcore's channels 0..N-1 (SIMCAN_CHANNELS, default 4) are the CAN
 * channels of VN1630-like devices with two channels each: global channel i is hwType
 * XL_HWTYPE_VN1630, hwIndex i / 2, hwChannel i % 2, serial number 1001 + i / 2. The
 * application "CANalyzer" has its application channels 0..N-1 assigned to global channels
 * 0..N-1 (what Vector Hardware Config does for CANalyzer on a fresh install).
 *
 * An XL port opened on several channels holds one simcore port per channel; its receive
 * queue is theirs taken in turn, plus a small queue of its own for chip-state answers. The
 * notification handle of xlSetNotification is an epoll descriptor over all of those, readable
 * while any of them holds an event (on Windows the real library hands out an event HANDLE).
 * Timestamps are nanoseconds since the port's clock was reset (XL_ACTIVATE_RESET_CLOCK) or,
 * before that, since the library was loaded. Written for our tests; no vendor code.
 */
#define _GNU_SOURCE
#include "vxlapi_sim.h"

#include <fcntl.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "simcore.h"

#define MAX_PORTS 32
#define MAX_CHANNELS 32
#define MAX_APPS 64
#define LOCAL_QUEUE 64
#define SERIAL_BASE 1001u

typedef struct xl_channel_state {
    int open;         /* this port has the channel */
    int sim_port;     /* simcore port */
    int channel;      /* global channel index */
    int v4;           /* the owning port's interface version is 4 (CAN FD events) */
    uint32_t std_code, std_mask, ext_code, ext_mask;
} xl_channel_state;

typedef struct chip_event {
    int channel;
    uint8_t status, tx, rx;
    uint64_t time_us;
} chip_event;

typedef struct xl_port {
    int used;
    int v4;
    XLaccess access, init;
    xl_channel_state ch[MAX_CHANNELS];
    chip_event local[LOCAL_QUEUE];
    int local_head, local_count;
    int pipe_r, pipe_w; /* readable while local_count > 0 */
    int epoll_fd;
    uint64_t clock_base_us;
    int next; /* round-robin start over the channels */
} xl_port;

typedef struct channel_conf {
    int owner; /* port with init access, -1: none */
    unsigned int bitrate;
    unsigned char sjw, tseg1, tseg2, sam;
    int fd;
    XLcanFdConf fd_conf;
} channel_conf;

typedef struct app_entry {
    int used;
    char name[XL_MAX_APPNAME + 1];
    unsigned int app_channel, hw_type, hw_index, hw_channel, bus_type;
} app_entry;

typedef struct failure {
    char function[48];
    int status;
    int times;
} failure;

static pthread_mutex_t vlock = PTHREAD_MUTEX_INITIALIZER;
static xl_port ports[MAX_PORTS];
static channel_conf conf[MAX_CHANNELS];
static int conf_ready;
static app_entry apps[MAX_APPS];
static int apps_ready;
static int driver_refs;
static int popups;
static failure failures[8];

/* -- helpers (vlock held) ------------------------------------------------------------------ */

static int channel_count(void) {
    int n = sim_channel_count();
    return n > MAX_CHANNELS ? MAX_CHANNELS : n;
}

static void conf_init_locked(void) {
    if (conf_ready) return;
    for (int i = 0; i < MAX_CHANNELS; i++) {
        memset(&conf[i], 0, sizeof conf[i]);
        conf[i].owner = -1;
        conf[i].bitrate = 500000;
        conf[i].sjw = 1;
        conf[i].tseg1 = 13;
        conf[i].tseg2 = 2;
        conf[i].sam = 1;
    }
    conf_ready = 1;
}

static void apps_init_locked(void) {
    if (apps_ready) return;
    memset(apps, 0, sizeof apps);
    for (int i = 0; i < channel_count() && i < MAX_APPS; i++) {
        apps[i].used = 1;
        snprintf(apps[i].name, sizeof apps[i].name, "%s", "CANalyzer");
        apps[i].app_channel = (unsigned)i;
        apps[i].hw_type = XL_HWTYPE_VN1630;
        apps[i].hw_index = (unsigned)i / 2;
        apps[i].hw_channel = (unsigned)i % 2;
        apps[i].bus_type = XL_BUS_TYPE_CAN;
    }
    apps_ready = 1;
}

/* A status a test asked this function to return (simvector_fail), or XL_SUCCESS. */
static XLstatus injected(const char *function) {
    XLstatus status = XL_SUCCESS;
    pthread_mutex_lock(&vlock);
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        failure *f = &failures[i];
        if (f->times > 0 && strcmp(f->function, function) == 0) {
            f->times--;
            status = (XLstatus)f->status;
            break;
        }
    }
    pthread_mutex_unlock(&vlock);
    return status;
}

#define INJECT(name)                           \
    do {                                       \
        XLstatus injected_ = injected(name);   \
        if (injected_ != XL_SUCCESS) return injected_; \
    } while (0)

static xl_port *port_of(XLportHandle handle) {
    if (handle < 0 || handle >= MAX_PORTS || !ports[handle].used) return NULL;
    return &ports[handle];
}

static uint64_t port_time_ns(const xl_port *p, uint64_t time_us) {
    uint64_t t = time_us >= p->clock_base_us ? time_us - p->clock_base_us : 0;
    return t * 1000u;
}

static int valid_mask(XLaccess mask) {
    int n = channel_count();
    return mask != 0 && (n >= 64 || (mask >> n) == 0);
}

/* The hardware acceptance filter (simcore calls it with its own lock held). Error frames
 * always pass; a port of interface version 3 cannot receive CAN FD frames. */
static int accept_frame(const sim_frame *frame, void *ctx) {
    const xl_channel_state *c = ctx;
    if (frame->flags & SIM_ERR) return 1;
    if ((frame->flags & SIM_FD) && !c->v4) return 0;
    if (frame->flags & SIM_EXT) return (frame->id & c->ext_mask) == (c->ext_code & c->ext_mask);
    return (frame->id & c->std_mask) == (c->std_code & c->std_mask);
}

static void close_port_locked(xl_port *p, int index) {
    for (int i = 0; i < MAX_CHANNELS; i++) {
        if (!p->ch[i].open) continue;
        sim_port_close(p->ch[i].sim_port);
        if (conf[i].owner == index) conf[i].owner = -1;
    }
    close(p->pipe_r);
    close(p->pipe_w);
    close(p->epoll_fd);
    memset(p, 0, sizeof *p);
}

static void push_local(xl_port *p, const chip_event *ev) {
    if (p->local_count == LOCAL_QUEUE) return;
    p->local[(p->local_head + p->local_count) % LOCAL_QUEUE] = *ev;
    if (p->local_count++ == 0) {
        char one = 1;
        ssize_t ignored = write(p->pipe_w, &one, 1);
        (void)ignored;
    }
}

static int pop_local(xl_port *p, chip_event *ev) {
    if (p->local_count == 0) return 0;
    *ev = p->local[p->local_head];
    p->local_head = (p->local_head + 1) % LOCAL_QUEUE;
    if (--p->local_count == 0) {
        char buf[16];
        while (read(p->pipe_r, buf, sizeof buf) > 0) {
        }
    }
    return 1;
}

/* The next frame of any of the port's channels, in turn (vlock held). */
static int next_frame(xl_port *p, sim_frame *frame, int *channel, int *overrun) {
    for (int k = 0; k < MAX_CHANNELS; k++) {
        int i = (p->next + k) % MAX_CHANNELS;
        if (!p->ch[i].open) continue;
        if (sim_port_recv(p->ch[i].sim_port, frame, 0) == 1) {
            *channel = i;
            *overrun = sim_port_overrun(p->ch[i].sim_port, 1) == 1;
            p->next = (i + 1) % MAX_CHANNELS;
            return 1;
        }
    }
    return 0;
}

static unsigned char chip_status(int state) {
    switch (state) {
    case SIM_BUSOFF: return XL_CHIPSTAT_BUSOFF;
    case SIM_PASSIVE: return XL_CHIPSTAT_ERROR_PASSIVE;
    case SIM_WARNING: return XL_CHIPSTAT_ERROR_WARNING;
    default: return XL_CHIPSTAT_ERROR_ACTIVE;
    }
}

static const uint8_t dlc_to_len[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64};

static uint8_t len_to_dlc(uint8_t len) {
    for (uint8_t dlc = 0; dlc < 16; dlc++)
        if (dlc_to_len[dlc] >= len) return dlc;
    return 15;
}

static XLstatus send_status(int rc) {
    switch (rc) {
    case SIM_OK: return XL_SUCCESS;
    case SIM_EBUSOFF: return XL_ERR_TX_NOT_POSSIBLE; /* sim: a bus-off controller sends nothing */
    case SIM_EOFFBUS: return XL_ERR_PORT_IS_OFFLINE;
    case SIM_EARG: return XL_ERR_WRONG_PARAMETER;
    default: return XL_ERR_INVALID_PORT;
    }
}

/* Send frame on every channel of mask (vlock held). */
static XLstatus send_on(xl_port *p, XLaccess mask, const sim_frame *frame) {
    for (int i = 0; i < MAX_CHANNELS; i++) {
        if (!(mask & ((XLaccess)1 << i))) continue;
        XLstatus status = send_status(sim_port_send(p->ch[i].sim_port, frame));
        if (status != XL_SUCCESS) return status;
    }
    return XL_SUCCESS;
}

/* -- driver ---------------------------------------------------------------------------------- */

XLstatus xlOpenDriver(void) {
    INJECT("xlOpenDriver");
    pthread_mutex_lock(&vlock);
    driver_refs++;
    conf_init_locked();
    apps_init_locked();
    pthread_mutex_unlock(&vlock);
    return XL_SUCCESS;
}

XLstatus xlCloseDriver(void) {
    INJECT("xlCloseDriver");
    pthread_mutex_lock(&vlock);
    if (driver_refs > 0) driver_refs--;
    pthread_mutex_unlock(&vlock);
    return XL_SUCCESS;
}

static const struct {
    int code;
    const char *name;
} error_names[] = {
    {XL_SUCCESS, "XL_SUCCESS"},
    {XL_PENDING, "XL_PENDING"},
    {XL_ERR_QUEUE_IS_EMPTY, "XL_ERR_QUEUE_IS_EMPTY"},
    {XL_ERR_QUEUE_IS_FULL, "XL_ERR_QUEUE_IS_FULL"},
    {XL_ERR_TX_NOT_POSSIBLE, "XL_ERR_TX_NOT_POSSIBLE"},
    {XL_ERR_NO_LICENSE, "XL_ERR_NO_LICENSE"},
    {XL_ERR_WRONG_PARAMETER, "XL_ERR_WRONG_PARAMETER"},
    {XL_ERR_TWICE_REGISTER, "XL_ERR_TWICE_REGISTER"},
    {XL_ERR_INVALID_CHAN_INDEX, "XL_ERR_INVALID_CHAN_INDEX"},
    {XL_ERR_INVALID_ACCESS, "XL_ERR_INVALID_ACCESS"},
    {XL_ERR_PORT_IS_OFFLINE, "XL_ERR_PORT_IS_OFFLINE"},
    {XL_ERR_CHAN_IS_ONLINE, "XL_ERR_CHAN_IS_ONLINE"},
    {XL_ERR_NOT_IMPLEMENTED, "XL_ERR_NOT_IMPLEMENTED"},
    {XL_ERR_INVALID_PORT, "XL_ERR_INVALID_PORT"},
    {XL_ERR_HW_NOT_READY, "XL_ERR_HW_NOT_READY"},
    {XL_ERR_CMD_TIMEOUT, "XL_ERR_CMD_TIMEOUT"},
    {XL_ERR_HW_NOT_PRESENT, "XL_ERR_HW_NOT_PRESENT"},
    {XL_ERR_NOTIFY_ALREADY_ACTIVE, "XL_ERR_NOTIFY_ALREADY_ACTIVE"},
    {XL_ERR_INVALID_TAG, "XL_ERR_INVALID_TAG"},
    {XL_ERR_INVALID_SIZE, "XL_ERR_INVALID_SIZE"},
    {XL_ERR_NO_RESOURCES, "XL_ERR_NO_RESOURCES"},
    {XL_ERR_WRONG_VERSION, "XL_ERR_WRONG_VERSION"},
    {XL_ERR_CANNOT_OPEN_DRIVER, "XL_ERR_CANNOT_OPEN_DRIVER"},
    {XL_ERR_WRONG_BUS_TYPE, "XL_ERR_WRONG_BUS_TYPE"},
    {XL_ERR_DLL_NOT_FOUND, "XL_ERR_DLL_NOT_FOUND"},
    {XL_ERR_INVALID_CHANNEL_MASK, "XL_ERR_INVALID_CHANNEL_MASK"},
    {XL_ERR_NOT_SUPPORTED, "XL_ERR_NOT_SUPPORTED"},
    {XL_ERR_QUEUE_OVERRUN, "XL_ERR_QUEUE_OVERRUN"},
    {XL_ERROR, "XL_ERROR"},
    {XL_ERR_INVALID_DLC, "XL_ERR_INVALID_DLC"},
    {XL_ERR_INVALID_CANID, "XL_ERR_INVALID_CANID"},
    {XL_ERR_EDL_RTR, "XL_ERR_EDL_RTR"},
    {XL_ERR_EDL_NOT_SET, "XL_ERR_EDL_NOT_SET"},
    {XL_ERR_UNKNOWN_FLAG, "XL_ERR_UNKNOWN_FLAG"},
};

XLstringType xlGetErrorString(XLstatus err) {
    for (size_t i = 0; i < sizeof error_names / sizeof error_names[0]; i++)
        if (error_names[i].code == err) return (XLstringType)error_names[i].name;
    return (XLstringType) "unknown error";
}

XLstatus xlGetDriverConfig(XLdriverConfig *config) {
    INJECT("xlGetDriverConfig");
    if (!config) return XL_ERR_WRONG_PARAMETER;
    pthread_mutex_lock(&vlock);
    if (driver_refs == 0) {
        pthread_mutex_unlock(&vlock);
        return XL_ERR_CANNOT_OPEN_DRIVER; /* sim: the driver must be open */
    }
    memset(config, 0, sizeof *config);
    config->dllVersion = 0x14050000u; /* sim: "20.5" */
    int n = channel_count();
    config->channelCount = (unsigned)n;
    for (int i = 0; i < n; i++) {
        XLchannelConfig *c = &config->channel[i];
        channel_conf *cc = &conf[i];
        snprintf(c->name, sizeof c->name, "VN1630 Channel %d", i % 2 + 1);
        c->hwType = XL_HWTYPE_VN1630;
        c->hwIndex = (unsigned char)(i / 2);
        c->hwChannel = (unsigned char)(i % 2);
        c->channelIndex = (unsigned char)i;
        c->channelMask = (XLuint64)1 << i;
        c->channelCapabilities = XL_CHANNEL_FLAG_CANFD_ISO_SUPPORT;
        c->channelBusCapabilities = XL_BUS_ACTIVE_CAP_CAN | XL_BUS_TYPE_CAN;
        c->channelBusActiveCapabilities = XL_BUS_TYPE_CAN;
        c->connectedBusType = XL_BUS_TYPE_CAN;
        c->busParams.busType = XL_BUS_TYPE_CAN;
        if (cc->fd) {
            c->busParams.data.canFD.arbitrationBitRate = cc->fd_conf.arbitrationBitRate;
            c->busParams.data.canFD.sjwAbr = (unsigned char)cc->fd_conf.sjwAbr;
            c->busParams.data.canFD.tseg1Abr = (unsigned char)cc->fd_conf.tseg1Abr;
            c->busParams.data.canFD.tseg2Abr = (unsigned char)cc->fd_conf.tseg2Abr;
            c->busParams.data.canFD.samAbr = 1;
            c->busParams.data.canFD.outputMode = 1;
            c->busParams.data.canFD.sjwDbr = (unsigned char)cc->fd_conf.sjwDbr;
            c->busParams.data.canFD.tseg1Dbr = (unsigned char)cc->fd_conf.tseg1Dbr;
            c->busParams.data.canFD.tseg2Dbr = (unsigned char)cc->fd_conf.tseg2Dbr;
            c->busParams.data.canFD.dataBitRate = cc->fd_conf.dataBitRate;
            c->busParams.data.canFD.canOpMode = XL_BUS_PARAMS_CANOPMODE_CANFD;
        } else {
            c->busParams.data.can.bitRate = cc->bitrate;
            c->busParams.data.can.sjw = cc->sjw;
            c->busParams.data.can.tseg1 = cc->tseg1;
            c->busParams.data.can.tseg2 = cc->tseg2;
            c->busParams.data.can.sam = cc->sam;
            c->busParams.data.can.outputMode = 1;
            c->busParams.data.can.canOpMode = XL_BUS_PARAMS_CANOPMODE_CAN20;
        }
        for (int k = 0; k < MAX_PORTS; k++)
            if (ports[k].used && ports[k].ch[i].open) c->isOnBus = 1;
        c->driverVersion = 0x14050000u;
        c->interfaceVersion = XL_INTERFACE_VERSION_V4;
        c->serialNumber = SERIAL_BASE + (unsigned)(i / 2);
        c->articleNumber = 7112; /* sim */
        snprintf(c->transceiverName, sizeof c->transceiverName, "%s", "On board CAN 1051cap(Highspeed)");
    }
    pthread_mutex_unlock(&vlock);
    return XL_SUCCESS;
}

XLstatus xlGetApplConfig(char *appName, unsigned int appChannel, unsigned int *pHwType,
                         unsigned int *pHwIndex, unsigned int *pHwChannel, unsigned int busType) {
    INJECT("xlGetApplConfig");
    if (!appName || !pHwType || !pHwIndex || !pHwChannel) return XL_ERR_WRONG_PARAMETER;
    XLstatus status = XL_ERR_INVALID_CHAN_INDEX; /* sim: no such application channel */
    pthread_mutex_lock(&vlock);
    apps_init_locked();
    for (int i = 0; i < MAX_APPS; i++) {
        app_entry *a = &apps[i];
        if (a->used && a->app_channel == appChannel && strcmp(a->name, appName) == 0 &&
            (busType == XL_BUS_TYPE_NONE || a->bus_type == busType)) {
            *pHwType = a->hw_type;
            *pHwIndex = a->hw_index;
            *pHwChannel = a->hw_channel;
            status = XL_SUCCESS;
            break;
        }
    }
    pthread_mutex_unlock(&vlock);
    return status;
}

XLstatus xlSetApplConfig(char *appName, unsigned int appChannel, unsigned int hwType,
                         unsigned int hwIndex, unsigned int hwChannel, unsigned int busType) {
    INJECT("xlSetApplConfig");
    if (!appName || !appName[0] || strlen(appName) > XL_MAX_APPNAME) return XL_ERR_WRONG_PARAMETER;
    pthread_mutex_lock(&vlock);
    apps_init_locked();
    app_entry *slot = NULL;
    for (int i = 0; i < MAX_APPS; i++) {
        app_entry *a = &apps[i];
        if (a->used && a->app_channel == appChannel && strcmp(a->name, appName) == 0) {
            slot = a;
            break;
        }
        if (!a->used && !slot) slot = a;
    }
    XLstatus status = XL_ERR_NO_RESOURCES;
    if (slot) {
        slot->used = 1;
        snprintf(slot->name, sizeof slot->name, "%s", appName);
        slot->app_channel = appChannel;
        slot->hw_type = hwType;
        slot->hw_index = hwIndex;
        slot->hw_channel = hwChannel;
        slot->bus_type = busType;
        status = XL_SUCCESS;
    }
    pthread_mutex_unlock(&vlock);
    return status;
}

int xlGetChannelIndex(int hwType, int hwIndex, int hwChannel) {
    for (int i = 0; i < channel_count(); i++) {
        if ((hwType == -1 || hwType == XL_HWTYPE_VN1630) && (hwIndex == -1 || hwIndex == i / 2) &&
            (hwChannel == -1 || hwChannel == i % 2))
            return i;
    }
    return -1;
}

XLaccess xlGetChannelMask(int hwType, int hwIndex, int hwChannel) {
    int index = xlGetChannelIndex(hwType, hwIndex, hwChannel);
    return index < 0 ? 0 : (XLaccess)1 << index;
}

XLstatus xlPopupHwConfig(char *callSign, unsigned int waitForFinish) {
    (void)callSign;
    (void)waitForFinish;
    INJECT("xlPopupHwConfig");
    pthread_mutex_lock(&vlock);
    popups++;
    pthread_mutex_unlock(&vlock);
    return XL_SUCCESS;
}

/* -- ports ----------------------------------------------------------------------------------- */

static int power_of_two(unsigned int n) { return n && !(n & (n - 1)); }

XLstatus xlOpenPort(XLportHandle *pPortHandle, char *userName, XLaccess accessMask,
                    XLaccess *pPermissionMask, unsigned int rxQueueSize,
                    unsigned int xlInterfaceVersion, unsigned int busType) {
    (void)userName;
    INJECT("xlOpenPort");
    if (!pPortHandle) return XL_ERR_WRONG_PARAMETER;
    *pPortHandle = XL_INVALID_PORTHANDLE;
    if (busType != XL_BUS_TYPE_CAN) return XL_ERR_WRONG_BUS_TYPE;
    if (xlInterfaceVersion != XL_INTERFACE_VERSION_V3 && xlInterfaceVersion != XL_INTERFACE_VERSION_V4)
        return XL_ERR_WRONG_VERSION;
    if (!valid_mask(accessMask)) return XL_ERR_INVALID_CHANNEL_MASK;
    int v4 = xlInterfaceVersion == XL_INTERFACE_VERSION_V4;
    int capacity;
    if (v4) {
        /* The CAN FD receive queue is sized in bytes, 8192 .. 524288 (vxlapi.h); sim: one
         * event takes 64 of them. */
        if (!power_of_two(rxQueueSize) || rxQueueSize < RX_FIFO_CANFD_QUEUE_SIZE_MIN ||
            rxQueueSize > RX_FIFO_CANFD_QUEUE_SIZE_MAX)
            return XL_ERR_WRONG_PARAMETER;
        capacity = (int)(rxQueueSize / 64);
    } else {
        /* Events, a power of two, 16 .. 32768 (python-can 3.3.2 manual, section 4.11). */
        if (!power_of_two(rxQueueSize) || rxQueueSize < 16 || rxQueueSize > 32768)
            return XL_ERR_WRONG_PARAMETER;
        capacity = (int)rxQueueSize;
    }
    pthread_mutex_lock(&vlock);
    if (driver_refs == 0) {
        pthread_mutex_unlock(&vlock);
        return XL_ERR_CANNOT_OPEN_DRIVER; /* sim: xlOpenDriver first */
    }
    conf_init_locked();
    int index = -1;
    for (int i = 0; i < MAX_PORTS; i++)
        if (!ports[i].used) {
            index = i;
            break;
        }
    if (index < 0) {
        pthread_mutex_unlock(&vlock);
        return XL_ERR_NO_RESOURCES;
    }
    xl_port *p = &ports[index];
    memset(p, 0, sizeof *p);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        pthread_mutex_unlock(&vlock);
        return XL_ERR_NO_RESOURCES;
    }
    p->pipe_r = fds[0];
    p->pipe_w = fds[1];
    p->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, p->pipe_r, &ev);
    p->used = 1;
    p->v4 = v4;
    p->clock_base_us = 0;
    XLaccess wanted_init = pPermissionMask ? *pPermissionMask : 0;
    XLaccess granted = 0;
    for (int i = 0; i < channel_count(); i++) {
        if (!(accessMask & ((XLaccess)1 << i))) continue;
        int sp = sim_port_open(i, capacity);
        if (sp < 0) {
            close_port_locked(p, index);
            pthread_mutex_unlock(&vlock);
            return XL_ERR_NO_RESOURCES;
        }
        xl_channel_state *c = &p->ch[i];
        c->open = 1;
        c->sim_port = sp;
        c->channel = i;
        c->v4 = v4;
        c->std_code = c->std_mask = c->ext_code = c->ext_mask = 0; /* open filter */
        sim_port_set_on_bus(sp, 0);
        sim_port_set_accept(sp, accept_frame, c);
        struct epoll_event pev = {.events = EPOLLIN};
        epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, sim_port_fd(sp), &pev);
        if ((wanted_init & ((XLaccess)1 << i)) && conf[i].owner < 0) {
            conf[i].owner = index;
            granted |= (XLaccess)1 << i;
        }
    }
    p->access = accessMask;
    p->init = granted;
    if (pPermissionMask) *pPermissionMask = granted;
    *pPortHandle = index;
    pthread_mutex_unlock(&vlock);
    return XL_SUCCESS;
}

XLstatus xlClosePort(XLportHandle portHandle) {
    INJECT("xlClosePort");
    pthread_mutex_lock(&vlock);
    xl_port *p = port_of(portHandle);
    XLstatus status = XL_ERR_INVALID_PORT;
    if (p) {
        close_port_locked(p, portHandle);
        status = XL_SUCCESS;
    }
    pthread_mutex_unlock(&vlock);
    return status;
}

/* Look up the port and check that mask is non-empty and within its channels. */
#define WITH_PORT_MASK(name, handle, mask, ...)                          \
    do {                                                                   \
        INJECT(name);                                                      \
        pthread_mutex_lock(&vlock);                                        \
        xl_port *p = port_of(handle);                                      \
        XLstatus status = XL_ERR_INVALID_PORT;                             \
        if (p) {                                                           \
            if ((mask) == 0 || ((mask) & ~p->access))                      \
                status = XL_ERR_INVALID_CHANNEL_MASK;                      \
            else {                                                         \
                status = XL_SUCCESS;                                       \
                __VA_ARGS__                                                \
            }                                                              \
        }                                                                  \
        pthread_mutex_unlock(&vlock);                                      \
        return status;                                                     \
    } while (0)

#define FOR_CHANNELS(mask, i) \
    for (int i = 0; i < MAX_CHANNELS; i++) if ((mask) & ((XLaccess)1 << i))

/* Setting the bus parameters needs init access to every channel of mask (vxlapi.h: "The
 * port must have init access to the channels"). */
#define NEED_INIT(mask)                                   \
    if (((mask) & ~p->init) != 0) {                       \
        status = XL_ERR_INVALID_ACCESS;                   \
    } else

XLstatus xlActivateChannel(XLportHandle portHandle, XLaccess accessMask, unsigned int busType,
                           unsigned int flags) {
    WITH_PORT_MASK("xlActivateChannel", portHandle, accessMask, {
        if (busType != XL_BUS_TYPE_CAN) {
            status = XL_ERR_WRONG_BUS_TYPE;
        } else {
            if (flags & XL_ACTIVATE_RESET_CLOCK) p->clock_base_us = sim_now_us();
            FOR_CHANNELS(accessMask, i) {
                /* Going on bus with init access restarts the controller: a bus-off channel
                 * is error-active again. */
                int state = SIM_ACTIVE;
                sim_channel_state(i, &state, NULL, NULL);
                if (state == SIM_BUSOFF && (p->init & ((XLaccess)1 << i))) sim_channel_reset(i);
                sim_port_set_on_bus(p->ch[i].sim_port, 1);
            }
        }
    });
}

XLstatus xlDeactivateChannel(XLportHandle portHandle, XLaccess accessMask) {
    WITH_PORT_MASK("xlDeactivateChannel", portHandle, accessMask, {
        FOR_CHANNELS(accessMask, i) sim_port_set_on_bus(p->ch[i].sim_port, 0);
    });
}

XLstatus xlCanSetChannelBitrate(XLportHandle portHandle, XLaccess accessMask, XLulong bitrate) {
    WITH_PORT_MASK("xlCanSetChannelBitrate", portHandle, accessMask, {
        NEED_INIT(accessMask) if (bitrate < 5000 || bitrate > 1000000) {
            status = XL_ERR_WRONG_PARAMETER;
        } else {
            FOR_CHANNELS(accessMask, i) {
                conf[i].bitrate = bitrate;
                conf[i].fd = 0;
            }
        }
    });
}

XLstatus xlCanSetChannelParams(XLportHandle portHandle, XLaccess accessMask, XLchipParams *pChipParams) {
    WITH_PORT_MASK("xlCanSetChannelParams", portHandle, accessMask, {
        NEED_INIT(accessMask) if (!pChipParams || pChipParams->bitRate < 5000 ||
                                  pChipParams->bitRate > 1000000 || pChipParams->sjw < 1 ||
                                  pChipParams->sjw > 4 || pChipParams->tseg1 < 1 ||
                                  pChipParams->tseg1 > 16 || pChipParams->tseg2 < 1 ||
                                  pChipParams->tseg2 > 8 ||
                                  (pChipParams->sam != 1 && pChipParams->sam != 3)) {
            status = XL_ERR_WRONG_PARAMETER;
        } else {
            FOR_CHANNELS(accessMask, i) {
                conf[i].bitrate = pChipParams->bitRate;
                conf[i].sjw = pChipParams->sjw;
                conf[i].tseg1 = pChipParams->tseg1;
                conf[i].tseg2 = pChipParams->tseg2;
                conf[i].sam = pChipParams->sam;
                conf[i].fd = 0;
            }
        }
    });
}

XLstatus xlCanFdSetConfiguration(XLportHandle portHandle, XLaccess accessMask, XLcanFdConf *pCanFdConf) {
    WITH_PORT_MASK("xlCanFdSetConfiguration", portHandle, accessMask, {
        const XLcanFdConf *c = pCanFdConf;
        NEED_INIT(accessMask) if (!c || c->arbitrationBitRate < 5000 ||
                                  c->arbitrationBitRate > 1000000 ||
                                  c->dataBitRate < c->arbitrationBitRate ||
                                  c->dataBitRate > 12000000 || !c->sjwAbr || !c->tseg1Abr ||
                                  !c->tseg2Abr || !c->sjwDbr || !c->tseg1Dbr || !c->tseg2Dbr ||
                                  c->reserved || c->reserved1[0] || c->reserved1[1] ||
                                  c->reserved2) {
            status = XL_ERR_WRONG_PARAMETER;
        } else {
            FOR_CHANNELS(accessMask, i) {
                conf[i].fd = 1;
                conf[i].fd_conf = *c;
                conf[i].bitrate = c->arbitrationBitRate;
            }
        }
    });
}

XLstatus xlCanSetChannelMode(XLportHandle portHandle, XLaccess accessMask, int tx, int txrq) {
    (void)txrq;
    /* sim: transmit receipts go to this port only, so they need no init access (python-can
     * 4.x sets them on a port without it, next to CANoe holding init access). */
    WITH_PORT_MASK("xlCanSetChannelMode", portHandle, accessMask, {
        FOR_CHANNELS(accessMask, i) sim_port_set_echo(p->ch[i].sim_port, tx != 0);
    });
}

XLstatus xlCanSetChannelOutput(XLportHandle portHandle, XLaccess accessMask, int mode) {
    WITH_PORT_MASK("xlCanSetChannelOutput", portHandle, accessMask, {
        NEED_INIT(accessMask) if (mode < 0 || mode > 2) status = XL_ERR_WRONG_PARAMETER;
    });
}

XLstatus xlCanSetChannelAcceptance(XLportHandle portHandle, XLaccess accessMask, XLulong code,
                                   XLulong mask, unsigned int idRange) {
    WITH_PORT_MASK("xlCanSetChannelAcceptance", portHandle, accessMask, {
        if (idRange != XL_CAN_STD && idRange != XL_CAN_EXT) {
            status = XL_ERR_WRONG_PARAMETER;
        } else {
            FOR_CHANNELS(accessMask, i) {
                xl_channel_state *c = &p->ch[i];
                if (idRange == XL_CAN_STD) {
                    c->std_code = code;
                    c->std_mask = mask;
                } else {
                    c->ext_code = code;
                    c->ext_mask = mask;
                }
            }
        }
    });
}

XLstatus xlCanResetAcceptance(XLportHandle portHandle, XLaccess accessMask, unsigned int idRange) {
    return xlCanSetChannelAcceptance(portHandle, accessMask, 0, 0, idRange);
}

XLstatus xlCanRequestChipState(XLportHandle portHandle, XLaccess accessMask) {
    WITH_PORT_MASK("xlCanRequestChipState", portHandle, accessMask, {
        FOR_CHANNELS(accessMask, i) {
            int state = SIM_ACTIVE, tx = 0, rx = 0;
            sim_channel_state(i, &state, &tx, &rx);
            chip_event ev = {i, chip_status(state), (uint8_t)(tx > 255 ? 255 : tx),
                             (uint8_t)(rx > 255 ? 255 : rx), sim_now_us()};
            push_local(p, &ev);
        }
    });
}

XLstatus xlCanFlushTransmitQueue(XLportHandle portHandle, XLaccess accessMask) {
    /* sim: a sent frame is on the bus at once, so there is never anything to flush. */
    WITH_PORT_MASK("xlCanFlushTransmitQueue", portHandle, accessMask, {});
}

XLstatus xlFlushReceiveQueue(XLportHandle portHandle) {
    WITH_PORT_MASK("xlFlushReceiveQueue", portHandle, p->access, {
        chip_event ev;
        while (pop_local(p, &ev)) {
        }
        FOR_CHANNELS(p->access, i) sim_port_clear(p->ch[i].sim_port);
    });
}

XLstatus xlGetReceiveQueueLevel(XLportHandle portHandle, int *level) {
    WITH_PORT_MASK("xlGetReceiveQueueLevel", portHandle, p->access, {
        int n = p->local_count;
        FOR_CHANNELS(p->access, i) n += sim_port_pending(p->ch[i].sim_port);
        if (level) *level = n;
    });
}

XLstatus xlSetNotification(XLportHandle portHandle, XLhandle *pHandle, int queueLevel) {
    WITH_PORT_MASK("xlSetNotification", portHandle, p->access, {
        if (!pHandle || queueLevel != 1) {
            status = XL_ERR_WRONG_PARAMETER; /* sim: only a queue level of 1 */
        } else {
            *pHandle = (XLhandle)(intptr_t)p->epoll_fd;
        }
    });
}

XLstatus xlGetSyncTime(XLportHandle portHandle, XLuint64 *pTime) {
    WITH_PORT_MASK("xlGetSyncTime", portHandle, p->access, {
        if (!pTime) status = XL_ERR_WRONG_PARAMETER;
        else *pTime = port_time_ns(p, sim_now_us());
    });
}

XLstatus xlGetChannelTime(XLportHandle portHandle, XLaccess accessMask, XLuint64 *pChannelTime) {
    WITH_PORT_MASK("xlGetChannelTime", portHandle, accessMask, {
        if (!pChannelTime) status = XL_ERR_WRONG_PARAMETER;
        else *pChannelTime = port_time_ns(p, sim_now_us());
    });
}

XLstatus xlGenerateSyncPulse(XLportHandle portHandle, XLaccess accessMask) {
    /* sim: there is no sync line; the pulse goes nowhere. */
    WITH_PORT_MASK("xlGenerateSyncPulse", portHandle, accessMask, {});
}

XLstatus xlSetTimerRate(XLportHandle portHandle, XLulong timerRate) {
    /* sim: timer events are not generated; the rate is accepted. */
    (void)timerRate;
    WITH_PORT_MASK("xlSetTimerRate", portHandle, p->access, {});
}

XLstatus xlCanSetChannelParamsC200(XLportHandle portHandle, XLaccess accessMask, unsigned char btr0,
                                   unsigned char btr1) {
    /* SJA1000 bus timing registers at its 16 MHz clock (8 MHz time quantum base). */
    XLchipParams params;
    unsigned int brp = (btr0 & 0x3Fu) + 1u;
    params.sjw = (unsigned char)(((btr0 >> 6) & 0x3u) + 1u);
    params.tseg1 = (unsigned char)((btr1 & 0x0Fu) + 1u);
    params.tseg2 = (unsigned char)(((btr1 >> 4) & 0x7u) + 1u);
    params.sam = (btr1 & 0x80u) ? 3 : 1;
    params.bitRate = 8000000u / (brp * (1u + params.tseg1 + params.tseg2));
    return xlCanSetChannelParams(portHandle, accessMask, &params);
}

XLstringType xlGetEventString(XLevent *pEv) {
    static __thread char text[96];
    if (!pEv) return (XLstringType) "";
    snprintf(text, sizeof text, "tag %u channel %u time %llu", pEv->tag, pEv->chanIndex,
             (unsigned long long)pEv->timeStamp);
    return text;
}

XLstringType xlCanGetEventString(XLcanRxEvent *pEv) {
    static __thread char text[96];
    if (!pEv) return (XLstringType) "";
    snprintf(text, sizeof text, "tag 0x%04x channel %u time %llu", pEv->tag, pEv->channelIndex,
             (unsigned long long)pEv->timeStampSync);
    return text;
}

/* -- transmit -------------------------------------------------------------------------------- */

XLstatus xlCanTransmit(XLportHandle portHandle, XLaccess accessMask, unsigned int *pEventCount,
                       void *pEvents) {
    INJECT("xlCanTransmit");
    if (!pEventCount || !pEvents) return XL_ERR_WRONG_PARAMETER;
    pthread_mutex_lock(&vlock);
    xl_port *p = port_of(portHandle);
    XLstatus status = XL_ERR_INVALID_PORT;
    unsigned int sent = 0;
    if (p) {
        status = XL_SUCCESS;
        if (accessMask == 0 || (accessMask & ~p->access)) status = XL_ERR_INVALID_CHANNEL_MASK;
        const XLevent *events = pEvents;
        for (unsigned int k = 0; status == XL_SUCCESS && k < *pEventCount; k++) {
            const XLevent *ev = &events[k];
            const struct s_xl_can_msg *m = &ev->tagData.msg;
            if (ev->tag != XL_TRANSMIT_MSG) {
                status = XL_ERR_INVALID_TAG;
                break;
            }
            int ext = (m->id & XL_CAN_EXT_MSG_ID) != 0;
            uint32_t id = m->id & ~XL_CAN_EXT_MSG_ID;
            if (id > (ext ? 0x1FFFFFFFu : 0x7FFu)) {
                status = XL_ERR_WRONG_PARAMETER;
                break;
            }
            if (m->dlc > 8) {
                status = XL_ERR_INVALID_DLC;
                break;
            }
            sim_frame f;
            memset(&f, 0, sizeof f);
            f.id = id;
            f.flags = (ext ? SIM_EXT : 0) | ((m->flags & XL_CAN_MSG_FLAG_REMOTE_FRAME) ? SIM_RTR : 0);
            f.len = (uint8_t)m->dlc;
            if (!(f.flags & SIM_RTR)) memcpy(f.data, m->data, f.len);
            status = send_on(p, accessMask, &f);
            if (status == XL_SUCCESS) sent++;
        }
    }
    *pEventCount = sent;
    pthread_mutex_unlock(&vlock);
    return status;
}

XLstatus xlCanTransmitEx(XLportHandle portHandle, XLaccess accessMask, unsigned int msgCnt,
                         unsigned int *pMsgCntSent, XLcanTxEvent *pXlCanTxEvt) {
    INJECT("xlCanTransmitEx");
    if (!pMsgCntSent || !pXlCanTxEvt) return XL_ERR_WRONG_PARAMETER;
    *pMsgCntSent = 0;
    pthread_mutex_lock(&vlock);
    xl_port *p = port_of(portHandle);
    XLstatus status = XL_ERR_INVALID_PORT;
    if (p) {
        status = XL_SUCCESS;
        if (!p->v4) status = XL_ERR_WRONG_VERSION; /* sim: xlCanTransmitEx needs a V4 port */
        if (accessMask == 0 || (accessMask & ~p->access)) status = XL_ERR_INVALID_CHANNEL_MASK;
        const unsigned int known = XL_CAN_TXMSG_FLAG_EDL | XL_CAN_TXMSG_FLAG_BRS |
                                   XL_CAN_TXMSG_FLAG_RTR | XL_CAN_TXMSG_FLAG_HIGHPRIO |
                                   XL_CAN_TXMSG_FLAG_WAKEUP;
        for (unsigned int k = 0; status == XL_SUCCESS && k < msgCnt; k++) {
            const XLcanTxEvent *ev = &pXlCanTxEvt[k];
            const XL_CAN_TX_MSG *m = &ev->tagData.canMsg;
            unsigned int flags = m->msgFlags;
            int edl = (flags & XL_CAN_TXMSG_FLAG_EDL) != 0;
            int ext = (m->canId & XL_CAN_EXT_MSG_ID) != 0;
            uint32_t id = m->canId & ~XL_CAN_EXT_MSG_ID;
            if (ev->tag != XL_CAN_EV_TAG_TX_MSG) status = XL_ERR_INVALID_TAG;
            else if (flags & ~known) status = XL_ERR_UNKNOWN_FLAG;
            else if (edl && (flags & XL_CAN_TXMSG_FLAG_RTR)) status = XL_ERR_EDL_RTR;
            else if (!edl && (flags & XL_CAN_TXMSG_FLAG_BRS)) status = XL_ERR_EDL_NOT_SET;
            else if (m->dlc > 15 || (!edl && m->dlc > 8)) status = XL_ERR_INVALID_DLC;
            else if (id > (ext ? 0x1FFFFFFFu : 0x7FFu)) status = XL_ERR_INVALID_CANID;
            if (status != XL_SUCCESS) break;
            sim_frame f;
            memset(&f, 0, sizeof f);
            f.id = id;
            f.flags = (ext ? SIM_EXT : 0) | ((flags & XL_CAN_TXMSG_FLAG_RTR) ? SIM_RTR : 0) |
                      (edl ? SIM_FD : 0) | ((flags & XL_CAN_TXMSG_FLAG_BRS) ? SIM_BRS : 0);
            f.len = edl ? dlc_to_len[m->dlc] : m->dlc;
            if (!(f.flags & SIM_RTR)) memcpy(f.data, m->data, f.len);
            if (edl) {
                /* sim: a CAN FD frame needs every channel configured for CAN FD. */
                FOR_CHANNELS(accessMask, i) if (!conf[i].fd) status = XL_ERR_NOT_SUPPORTED;
                if (status != XL_SUCCESS) break;
            }
            status = send_on(p, accessMask, &f);
            if (status == XL_SUCCESS) (*pMsgCntSent)++;
        }
    }
    pthread_mutex_unlock(&vlock);
    return status;
}

/* -- receive --------------------------------------------------------------------------------- */

XLstatus xlReceive(XLportHandle portHandle, unsigned int *pEventCount, XLevent *pEvents) {
    INJECT("xlReceive");
    if (!pEventCount || !pEvents) return XL_ERR_WRONG_PARAMETER;
    pthread_mutex_lock(&vlock);
    xl_port *p = port_of(portHandle);
    if (!p) {
        pthread_mutex_unlock(&vlock);
        *pEventCount = 0;
        return XL_ERR_INVALID_PORT;
    }
    unsigned int n = 0;
    while (n < *pEventCount) {
        XLevent *ev = &pEvents[n];
        memset(ev, 0, sizeof *ev);
        ev->portHandle = (unsigned short)portHandle;
        chip_event chip;
        sim_frame f;
        int channel, overrun;
        if (pop_local(p, &chip)) {
            ev->tag = XL_CHIP_STATE;
            ev->chanIndex = (unsigned char)chip.channel;
            ev->timeStamp = port_time_ns(p, chip.time_us);
            ev->tagData.chipState.busStatus = chip.status;
            ev->tagData.chipState.txErrorCounter = chip.tx;
            ev->tagData.chipState.rxErrorCounter = chip.rx;
        } else if (next_frame(p, &f, &channel, &overrun)) {
            ev->tag = XL_RECEIVE_MSG;
            ev->chanIndex = (unsigned char)channel;
            ev->timeStamp = port_time_ns(p, f.time_us);
            ev->flags = overrun ? XL_EVENT_FLAG_OVERRUN : 0;
            struct s_xl_can_msg *m = &ev->tagData.msg;
            m->id = f.id | ((f.flags & SIM_EXT) ? XL_CAN_EXT_MSG_ID : 0);
            m->flags = (unsigned short)(((f.flags & SIM_RTR) ? XL_CAN_MSG_FLAG_REMOTE_FRAME : 0) |
                                        ((f.flags & SIM_ERR) ? XL_CAN_MSG_FLAG_ERROR_FRAME : 0) |
                                        ((f.flags & SIM_ECHO) ? XL_CAN_MSG_FLAG_TX_COMPLETED : 0) |
                                        (overrun ? XL_CAN_MSG_FLAG_OVERRUN : 0));
            m->dlc = f.len > 8 ? 8 : f.len;
            if (f.flags & SIM_ERR) m->id = 0;
            if (!(f.flags & SIM_RTR)) memcpy(m->data, f.data, m->dlc);
        } else {
            break;
        }
        n++;
    }
    pthread_mutex_unlock(&vlock);
    *pEventCount = n;
    return n ? XL_SUCCESS : XL_ERR_QUEUE_IS_EMPTY;
}

XLstatus xlCanReceive(XLportHandle portHandle, XLcanRxEvent *ev) {
    INJECT("xlCanReceive");
    if (!ev) return XL_ERR_WRONG_PARAMETER;
    pthread_mutex_lock(&vlock);
    xl_port *p = port_of(portHandle);
    XLstatus status = XL_ERR_INVALID_PORT;
    if (p && !p->v4) status = XL_ERR_WRONG_VERSION; /* sim: xlCanReceive needs a V4 port */
    else if (p) {
        chip_event chip;
        sim_frame f;
        int channel, overrun;
        status = XL_SUCCESS;
        memset(ev, 0, XL_CANFD_RX_EVENT_HEADER_SIZE);
        if (pop_local(p, &chip)) {
            ev->size = XL_CANFD_RX_EVENT_HEADER_SIZE + sizeof(XL_CAN_EV_CHIP_STATE);
            ev->tag = XL_CAN_EV_TAG_CHIP_STATE;
            ev->channelIndex = (unsigned short)chip.channel;
            ev->timeStampSync = port_time_ns(p, chip.time_us);
            memset(&ev->tagData.canChipState, 0, sizeof ev->tagData.canChipState);
            ev->tagData.canChipState.busStatus = chip.status;
            ev->tagData.canChipState.txErrorCounter = chip.tx;
            ev->tagData.canChipState.rxErrorCounter = chip.rx;
        } else if (next_frame(p, &f, &channel, &overrun)) {
            ev->channelIndex = (unsigned short)channel;
            ev->timeStampSync = port_time_ns(p, f.time_us);
            ev->flagsChip = overrun ? XL_CAN_QUEUE_OVERFLOW : 0;
            if (f.flags & SIM_ERR) {
                ev->size = XL_CANFD_RX_EVENT_HEADER_SIZE + sizeof(XL_CAN_EV_ERROR);
                ev->tag = XL_CAN_EV_TAG_RX_ERROR;
                memset(&ev->tagData.canError, 0, sizeof ev->tagData.canError);
                ev->tagData.canError.errorCode =
                    (f.id >= XL_CAN_ERRC_BIT_ERROR && f.id <= XL_CAN_ERRC_EXCPT_ERROR)
                        ? (unsigned char)f.id
                        : XL_CAN_ERRC_OTHER_ERROR;
            } else {
                XL_CAN_EV_RX_MSG *m = &ev->tagData.canRxOkMsg;
                memset(m, 0, offsetof(XL_CAN_EV_RX_MSG, data));
                ev->tag = (f.flags & SIM_ECHO) ? XL_CAN_EV_TAG_TX_OK : XL_CAN_EV_TAG_RX_OK;
                m->canId = f.id | ((f.flags & SIM_EXT) ? XL_CAN_EXT_MSG_ID : 0);
                m->msgFlags = ((f.flags & SIM_FD) ? XL_CAN_RXMSG_FLAG_EDL : 0) |
                              ((f.flags & SIM_BRS) ? XL_CAN_RXMSG_FLAG_BRS : 0) |
                              ((f.flags & SIM_ESI) ? XL_CAN_RXMSG_FLAG_ESI : 0) |
                              ((f.flags & SIM_RTR) ? XL_CAN_RXMSG_FLAG_RTR : 0);
                m->dlc = (f.flags & SIM_FD) ? len_to_dlc(f.len) : f.len;
                size_t len = (f.flags & SIM_RTR) ? 0 : f.len;
                memcpy(m->data, f.data, len);
                ev->size = (unsigned)(XL_CANFD_RX_EVENT_HEADER_SIZE + offsetof(XL_CAN_EV_RX_MSG, data) + len);
            }
        } else {
            status = XL_ERR_QUEUE_IS_EMPTY;
        }
    }
    pthread_mutex_unlock(&vlock);
    return status;
}

/* -- test control ---------------------------------------------------------------------------- */

/* The next `times` calls of `function` return `status` (0 clears every injection). */
int simvector_fail(const char *function, int status, int times) {
    pthread_mutex_lock(&vlock);
    if (!function) {
        memset(failures, 0, sizeof failures);
        pthread_mutex_unlock(&vlock);
        return 0;
    }
    int rc = -1;
    for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
        if (failures[i].times == 0) {
            snprintf(failures[i].function, sizeof failures[i].function, "%s", function);
            failures[i].status = status;
            failures[i].times = times;
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&vlock);
    return rc;
}

int simvector_popups(void) {
    pthread_mutex_lock(&vlock);
    int n = popups;
    pthread_mutex_unlock(&vlock);
    return n;
}

int simvector_open_xl_ports(void) {
    pthread_mutex_lock(&vlock);
    int n = 0;
    for (int i = 0; i < MAX_PORTS; i++) n += ports[i].used;
    pthread_mutex_unlock(&vlock);
    return n;
}

int simvector_driver_refs(void) {
    pthread_mutex_lock(&vlock);
    int n = driver_refs;
    pthread_mutex_unlock(&vlock);
    return n;
}

/* Everything back to a fresh driver: ports closed, channel and application configuration as
 * at install, no injected failures, the simulated bus reset. */
void simvector_reset(void) {
    pthread_mutex_lock(&vlock);
    for (int i = 0; i < MAX_PORTS; i++)
        if (ports[i].used) close_port_locked(&ports[i], i);
    conf_ready = 0;
    apps_ready = 0;
    conf_init_locked();
    apps_init_locked();
    memset(failures, 0, sizeof failures);
    popups = 0;
    driver_refs = 0;
    pthread_mutex_unlock(&vlock);
    simctl_reset();
}

/* The sizes (and a few offsets) of the structures as this library lays them out, for the
 * tests to compare with the backend's ctypes declarations. -1: unknown name. */
long simvector_layout(const char *what) {
    static const struct {
        const char *name;
        long value;
    } table[] = {
        {"XLevent", sizeof(XLevent)},
        {"XLevent.timeStamp", offsetof(XLevent, timeStamp)},
        {"XLevent.tagData", offsetof(XLevent, tagData)},
        {"XLcanTxEvent", sizeof(XLcanTxEvent)},
        {"XLcanRxEvent", sizeof(XLcanRxEvent)},
        {"XLcanRxEvent.timeStampSync", offsetof(XLcanRxEvent, timeStampSync)},
        {"XLcanRxEvent.tagData", offsetof(XLcanRxEvent, tagData)},
        {"XL_CAN_EV_RX_MSG.data", offsetof(XL_CAN_EV_RX_MSG, data)},
        {"XLcanFdConf", sizeof(XLcanFdConf)},
        {"XLchipParams", sizeof(XLchipParams)},
        {"XLbusParams", sizeof(XLbusParams)},
        {"XLchannelConfig", sizeof(XLchannelConfig)},
        {"XLchannelConfig.channelMask", offsetof(XLchannelConfig, channelMask)},
        {"XLchannelConfig.busParams", offsetof(XLchannelConfig, busParams)},
        {"XLchannelConfig.serialNumber", offsetof(XLchannelConfig, serialNumber)},
        {"XLchannelConfig.transceiverName", offsetof(XLchannelConfig, transceiverName)},
        {"XLdriverConfig", sizeof(XLdriverConfig)},
        {"XLdriverConfig.channel", offsetof(XLdriverConfig, channel)},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (what && strcmp(table[i].name, what) == 0) return table[i].value;
    return -1;
}

/* vxlapi.h states these sizes in its comments. */
_Static_assert(sizeof(struct s_xl_can_msg) == 32, "s_xl_can_msg is 32 bytes");
_Static_assert(sizeof(XLevent) == 48, "XLevent is 48 bytes");
_Static_assert(sizeof(XLcanRxEvent) == XL_CANFD_MAX_EVENT_SIZE, "XLcanRxEvent is 128 bytes");
_Static_assert(offsetof(XLcanRxEvent, tagData) == XL_CANFD_RX_EVENT_HEADER_SIZE, "header is 32 bytes");
