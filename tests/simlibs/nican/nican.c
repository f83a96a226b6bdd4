/*
 * A simulated NI-CAN driver (nican.dll, the Frame API for CAN Network Interface Objects), on
 * simcore.
 *
 * Functions, NCTYPE_CAN_FRAME / NCTYPE_CAN_STRUCT (packed to 2 bytes), attribute ids, opcodes,
 * states, frame types and status codes are those of National Instruments' public header
 * nican.h (NC_ATTR_*, NC_OP_*, NC_ST_*, NC_FRMTYPE_*, NICAN_ERROR_BASE / NICAN_WARNING_BASE
 * codes). NCTYPE_UINT32 is 32 bits, as on Windows where the real driver runs.
 *
 * Simulation: interfaces "CAN0" .. "CAN3" exist and are all wired to simcore channel 0 (a
 * two-port card cabled port to port). ncConfig stores attributes for a name until
 * ncOpenObject; one open object per interface, with a read queue of 4000 frames. Timestamps are absolute: 100 ns units since
 * 1601-01-01 (FILETIME), the host's time. Filters use the Series 1 comparator semantics (a mask
 * bit of 1 must match; NC_CAN_ARBID_NONE disables a comparator). With NC_ATTR_LOG_COMM_ERRS
 * an error injected through simctl is read as an NC_FRMTYPE_COMM_ERR frame whose
 * ArbitrationId is CanWarnComm; a bus-off channel refuses ncWrite with CanErrComm.
 */
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "simcore.h"

#define EXPORT __attribute__((visibility("default")))

typedef int32_t NCTYPE_STATUS;
typedef uint32_t NCTYPE_UINT32;

#define NICAN_WARNING_BASE 0x3FF62000
#define NICAN_ERROR_BASE ((int32_t)0xBFF62000u)
#define CanSuccess 0
#define CanErrFunctionTimeout (NICAN_ERROR_BASE | 0x001)
#define CanErrBadIntfName (NICAN_ERROR_BASE | 0x023)
#define CanErrBadParam (NICAN_ERROR_BASE | 0x004)
#define CanErrBadHandle (NICAN_ERROR_BASE | 0x024)
#define CanErrBadAttributeValue (NICAN_ERROR_BASE | 0x005)
#define CanErrAlreadyOpen (NICAN_ERROR_BASE | 0x006)
#define CanErrOverflowRxQueue (NICAN_ERROR_BASE | 0x068)
#define CanWarnOldData (NICAN_WARNING_BASE | 0x009)
#define CanErrNotSupported (NICAN_ERROR_BASE | 0x00A)
#define CanWarnComm (NICAN_WARNING_BASE | 0x00B)
#define CanErrComm (NICAN_ERROR_BASE | 0x00B)
#define CanErrBadSizeOrLength (NICAN_ERROR_BASE | 0x105)
#define CanErrNotStarted (NICAN_ERROR_BASE | 0x112)

#define NC_ATTR_STATE 0x80000009u
#define NC_ATTR_START_ON_OPEN 0x80000006u
#define NC_ATTR_BAUD_RATE 0x80000007u
#define NC_ATTR_READ_PENDING 0x80000011u
#define NC_ATTR_READ_Q_LEN 0x80000013u
#define NC_ATTR_WRITE_Q_LEN 0x80000014u
#define NC_ATTR_COMP_STD 0x80010001u
#define NC_ATTR_MASK_STD 0x80010002u
#define NC_ATTR_COMP_XTD 0x80010003u
#define NC_ATTR_MASK_XTD 0x80010004u
#define NC_ATTR_LOG_COMM_ERRS 0x8001000Au
#define NC_ATTR_RX_ERROR_COUNTER 0x80010011u
#define NC_ATTR_TX_ERROR_COUNTER 0x80010012u
#define NC_ST_READ_AVAIL 0x1u
#define NC_ST_WRITE_SUCCESS 0x2u
#define NC_OP_START 0x80000001u
#define NC_OP_STOP 0x80000002u
#define NC_OP_RESET 0x80000003u
#define NC_FL_CAN_ARBID_XTD 0x20000000u
#define NC_CAN_ARBID_NONE 0xCFFFFFFFu
#define NC_FRMTYPE_DATA 0
#define NC_FRMTYPE_REMOTE 1
#define NC_FRMTYPE_COMM_ERR 2
#define NC_DURATION_INFINITE 0xFFFFFFFFu

#pragma pack(push, 2)
typedef struct {
    NCTYPE_UINT32 LowPart;
    NCTYPE_UINT32 HighPart;
} NCTYPE_UINT64;
typedef struct {
    NCTYPE_UINT32 ArbitrationId;
    uint8_t IsRemote;
    uint8_t DataLength;
    uint8_t Data[8];
} NCTYPE_CAN_FRAME;
typedef struct {
    NCTYPE_UINT64 Timestamp;
    NCTYPE_UINT32 ArbitrationId;
    uint8_t FrameType;
    uint8_t DataLength;
    uint8_t Data[8];
} NCTYPE_CAN_STRUCT;
#pragma pack(pop)

#define INTERFACES 4

typedef struct {
    int configured, open, started, port;
    NCTYPE_UINT32 baud, start_on_open, log_errors;
    NCTYPE_UINT32 comp_std, mask_std, comp_xtd, mask_xtd;
} intf_t;

static intf_t intfs[INTERFACES];
static uint64_t epoch_filetime; /* host FILETIME when the simulated clock read 0 */

static int index_of(const char *name) {
    if (!name || strncmp(name, "CAN", 3) != 0) return -1;
    if (name[3] < '0' || name[3] >= '0' + INTERFACES || name[4] != '\0') return -1;
    return name[3] - '0';
}

static intf_t *handle(NCTYPE_UINT32 h) {
    /* handles are 0x100 + interface index */
    if (h < 0x100 || h >= 0x100 + INTERFACES || !intfs[h - 0x100].open) return NULL;
    return &intfs[h - 0x100];
}

static int accept(const sim_frame *frame, void *ctx) {
    const intf_t *i = ctx;
    if (frame->flags & SIM_ERR) return 1;
    if (frame->flags & SIM_EXT) {
        if (i->comp_xtd == NC_CAN_ARBID_NONE) return 0;
        uint32_t comp = i->comp_xtd & ~NC_FL_CAN_ARBID_XTD;
        return (frame->id & i->mask_xtd) == (comp & i->mask_xtd);
    }
    if (i->comp_std == NC_CAN_ARBID_NONE) return 0;
    return (frame->id & i->mask_std) == (i->comp_std & i->mask_std);
}

EXPORT NCTYPE_STATUS ncConfig(char *name, NCTYPE_UINT32 count, NCTYPE_UINT32 *ids,
                              NCTYPE_UINT32 *values) {
    int n = index_of(name);
    if (n < 0) return CanErrBadIntfName;
    intf_t *i = &intfs[n];
    if (i->open) return CanErrAlreadyOpen;
    memset(i, 0, sizeof *i);
    i->baud = 125000;
    for (NCTYPE_UINT32 k = 0; k < count; k++) {
        NCTYPE_UINT32 v = values[k];
        switch (ids[k]) {
        case NC_ATTR_BAUD_RATE:
            /* a standard rate, or bit 31 set and the 82527's BTR0/BTR1 in the low 16 bits */
            if (!(v & 0x80000000u) && (v < 10000 || v > 1000000)) return CanErrBadAttributeValue;
            i->baud = v;
            break;
        case NC_ATTR_START_ON_OPEN: i->start_on_open = v; break;
        case NC_ATTR_LOG_COMM_ERRS: i->log_errors = v; break;
        case NC_ATTR_READ_Q_LEN:
        case NC_ATTR_WRITE_Q_LEN: break;
        case NC_ATTR_COMP_STD: i->comp_std = v; break;
        case NC_ATTR_MASK_STD: i->mask_std = v; break;
        case NC_ATTR_COMP_XTD: i->comp_xtd = v; break;
        case NC_ATTR_MASK_XTD: i->mask_xtd = v; break;
        default: return CanErrNotSupported;
        }
    }
    i->configured = 1;
    return CanSuccess;
}

EXPORT NCTYPE_STATUS ncOpenObject(char *name, NCTYPE_UINT32 *h) {
    int n = index_of(name);
    if (n < 0) return CanErrBadIntfName;
    if (!h) return CanErrBadParam;
    intf_t *i = &intfs[n];
    if (i->open) return CanErrAlreadyOpen;
    if (!i->configured) {
        memset(i, 0, sizeof *i);
        i->baud = 125000;
    }
    i->port = sim_port_open(0, 4000);
    if (i->port < 0) return CanErrBadParam;
    sim_port_set_accept(i->port, accept, i);
    i->open = 1;
    i->configured = 0;
    i->started = i->start_on_open != 0;
    sim_port_set_on_bus(i->port, i->started);
    if (!epoch_filetime) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        uint64_t ft = (uint64_t)now.tv_sec * 10000000u + (uint64_t)now.tv_nsec / 100u +
                      116444736000000000ull; /* 1601 -> 1970 in 100 ns */
        epoch_filetime = ft - sim_now_us() * 10u;
    }
    *h = 0x100 + (NCTYPE_UINT32)n;
    return CanSuccess;
}

EXPORT NCTYPE_STATUS ncCloseObject(NCTYPE_UINT32 h) {
    intf_t *i = handle(h);
    if (!i) return CanErrBadHandle;
    sim_port_close(i->port);
    i->open = 0;
    return CanSuccess;
}

EXPORT NCTYPE_STATUS ncAction(NCTYPE_UINT32 h, NCTYPE_UINT32 opcode, NCTYPE_UINT32 param) {
    (void)param;
    intf_t *i = handle(h);
    if (!i) return CanErrBadHandle;
    switch (opcode) {
    case NC_OP_START: i->started = 1; break;
    case NC_OP_STOP: i->started = 0; break;
    case NC_OP_RESET:
        /* stop, clear the queues, reset the chip's error counters */
        i->started = 0;
        sim_port_clear(i->port);
        sim_channel_reset(sim_port_channel(i->port));
        break;
    default: return CanErrBadParam;
    }
    sim_port_set_on_bus(i->port, i->started);
    return CanSuccess;
}

EXPORT NCTYPE_STATUS ncWaitForState(NCTYPE_UINT32 h, NCTYPE_UINT32 desired, NCTYPE_UINT32 timeout,
                                    NCTYPE_UINT32 *state) {
    intf_t *i = handle(h);
    if (!i) return CanErrBadHandle;
    if (desired & NC_ST_WRITE_SUCCESS) {
        if (state) *state = NC_ST_WRITE_SUCCESS;
        return CanSuccess;
    }
    if (!(desired & NC_ST_READ_AVAIL)) return CanErrBadParam;
    struct pollfd pfd = {.fd = sim_port_fd(i->port), .events = POLLIN};
    int ms = timeout == NC_DURATION_INFINITE ? -1 : (int)(timeout > 0x7fffffff ? 0x7fffffff : timeout);
    int rc = poll(&pfd, 1, ms);
    if (!handle(h)) return CanErrBadHandle; /* closed while waiting */
    if (rc <= 0) return CanErrFunctionTimeout;
    if (state) *state = NC_ST_READ_AVAIL;
    return CanSuccess;
}

EXPORT NCTYPE_STATUS ncRead(NCTYPE_UINT32 h, NCTYPE_UINT32 size, void *data) {
    intf_t *i = handle(h);
    if (!i) return CanErrBadHandle;
    if (size != sizeof(NCTYPE_CAN_STRUCT) || !data) return CanErrBadSizeOrLength;
    NCTYPE_CAN_STRUCT *out = data;
    int overrun = sim_port_overrun(i->port, 1);
    for (;;) {
        sim_frame frame;
        if (sim_port_recv(i->port, &frame, 0) != 1) return CanWarnOldData;
        if ((frame.flags & SIM_ERR) && !i->log_errors) continue;
        memset(out, 0, sizeof *out);
        uint64_t ft = epoch_filetime + frame.time_us * 10u;
        out->Timestamp.LowPart = (NCTYPE_UINT32)ft;
        out->Timestamp.HighPart = (NCTYPE_UINT32)(ft >> 32);
        if (frame.flags & SIM_ERR) {
            out->FrameType = NC_FRMTYPE_COMM_ERR;
            out->ArbitrationId = (NCTYPE_UINT32)CanWarnComm;
            return overrun ? CanErrOverflowRxQueue : CanSuccess;
        }
        out->ArbitrationId = frame.id | ((frame.flags & SIM_EXT) ? NC_FL_CAN_ARBID_XTD : 0);
        out->FrameType = (frame.flags & SIM_RTR) ? NC_FRMTYPE_REMOTE : NC_FRMTYPE_DATA;
        out->DataLength = frame.len > 8 ? 8 : frame.len;
        memcpy(out->Data, frame.data, out->DataLength);
        return overrun ? CanErrOverflowRxQueue : CanSuccess;
    }
}

EXPORT NCTYPE_STATUS ncWrite(NCTYPE_UINT32 h, NCTYPE_UINT32 size, void *data) {
    intf_t *i = handle(h);
    if (!i) return CanErrBadHandle;
    if (size != sizeof(NCTYPE_CAN_FRAME) || !data) return CanErrBadSizeOrLength;
    if (!i->started) return CanErrNotStarted;
    const NCTYPE_CAN_FRAME *in = data;
    int ext = (in->ArbitrationId & NC_FL_CAN_ARBID_XTD) != 0;
    uint32_t id = in->ArbitrationId & ~NC_FL_CAN_ARBID_XTD;
    if (in->DataLength > 8 || id > (ext ? 0x1FFFFFFFu : 0x7FFu)) return CanErrBadParam;
    sim_frame frame;
    memset(&frame, 0, sizeof frame);
    frame.id = id;
    frame.flags = (ext ? SIM_EXT : 0) | (in->IsRemote ? SIM_RTR : 0);
    frame.len = in->DataLength;
    if (!in->IsRemote) memcpy(frame.data, in->Data, in->DataLength);
    int rc = sim_port_send(i->port, &frame);
    if (rc == SIM_EBUSOFF) return CanErrComm;
    return rc == SIM_OK ? CanSuccess : CanErrNotStarted;
}

EXPORT NCTYPE_STATUS ncGetAttribute(NCTYPE_UINT32 h, NCTYPE_UINT32 id, NCTYPE_UINT32 size,
                                    void *attr) {
    intf_t *i = handle(h);
    if (!i) return CanErrBadHandle;
    if (size != sizeof(NCTYPE_UINT32) || !attr) return CanErrBadSizeOrLength;
    int state = 0, tx = 0, rx = 0;
    sim_channel_state(sim_port_channel(i->port), &state, &tx, &rx);
    NCTYPE_UINT32 *out = attr;
    switch (id) {
    case NC_ATTR_RX_ERROR_COUNTER: *out = (NCTYPE_UINT32)rx; break;
    case NC_ATTR_TX_ERROR_COUNTER: *out = (NCTYPE_UINT32)tx; break;
    case NC_ATTR_READ_PENDING: *out = (NCTYPE_UINT32)sim_port_pending(i->port); break;
    case NC_ATTR_BAUD_RATE: *out = i->baud; break;
    default: return CanErrNotSupported;
    }
    return CanSuccess;
}

static const struct {
    NCTYPE_STATUS status;
    const char *text;
} texts[] = {
    {CanSuccess, "success"},
    {CanErrFunctionTimeout, "function timeout"},
    {CanErrBadIntfName, "bad interface name"},
    {CanErrBadParam, "bad parameter"},
    {CanErrBadHandle, "bad object handle"},
    {CanErrBadAttributeValue, "bad attribute value"},
    {CanErrAlreadyOpen, "the object is already open"},
    {CanErrOverflowRxQueue, "receive queue overflow"},
    {CanWarnOldData, "no new data was received"},
    {CanErrNotSupported, "not supported"},
    {CanWarnComm, "CAN communication warning"},
    {CanErrComm, "CAN communication error (bus off)"},
    {CanErrBadSizeOrLength, "bad size or length"},
    {CanErrNotStarted, "the object is not started"},
};

EXPORT void ncStatusToString(NCTYPE_STATUS status, NCTYPE_UINT32 size, char *out) {
    if (!out || !size) return;
    for (size_t k = 0; k < sizeof texts / sizeof texts[0]; k++) {
        if (texts[k].status == status) {
            snprintf(out, size, "%s", texts[k].text);
            return;
        }
    }
    snprintf(out, size, "NI-CAN status 0x%08X", (unsigned)status);
}
