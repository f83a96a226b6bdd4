/*
 * A simulated isCAN driver (Thorsis / ifak iscandrv), on simcore.
 *
 * Functions, the message structure and the status codes are those of the vendor's public
 * headers iscandrv.h (status codes CAN_*, DeviceInfo_type, isCAN_DeviceInit..., baud indices
 * CAN_BAUD_10 = 1 .. CAN_BAUD_1000 = 9) and iscanext.h (CAN_MessageEx_type and the *Ex
 * functions for 29-bit identifiers). Windows types: BYTE/BOOLEAN 8 bits, WORD 16, DWORD 32.
 *
 * Simulation: device numbers 0 .. SIMCAN_ISCAN_DEVICES-1 (default 2) are attached and wired to
 * simcore channel 0, so two devices see each other's frames. A device is opened by
 * isCAN_DeviceInit(Ex) and closed by isCAN_CloseDevice; receiving never blocks (the driver
 * answers CAN_RECEIVE_BUFFER_EMPTY), so callers poll. Bus conditions set through simctl come
 * back from isCAN_ReceiveMessageEx as the matching status code when an error frame arrives,
 * and a bus-off channel refuses to transmit with CAN_BUS_OFF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simcore.h"

#define EXPORT __attribute__((visibility("default")))

/* iscandrv.h */
#define MAX_NR_OF_CARDS 16
#define MAX_BAUD 9
#define CAN_NO_ERROR 0
#define CAN_DEVICE_NOT_FOUND 2
#define CAN_INVALID_PARAMETER 4
#define CAN_DEVICE_NOT_ONLINE 5
#define CAN_RECEIVE_BUFFER_EMPTY 8
#define CAN_DEVICE_NOT_INITIALIZED 12
#define CAN_DEVICE_ALREADY_IN_USE 15
#define CAN_BUS_ERROR 16
#define CAN_BUS_OFF 17
#define CAN_ERROR_PASSIVE 18
#define CAN_DATA_OVERRUN 19
#define CAN_ERROR_WARNING 20
#define DEVTYPE_USB 1
/* iscanext.h */
#define CAN_RECEIVED_EFF_MESSAGE 24

typedef uint8_t BYTE;
typedef uint8_t BOOLEAN;
typedef uint16_t WORD;
typedef uint32_t DWORD;

typedef struct {
    WORD MessageID;
    BOOLEAN RemoteReq;
    BYTE DataLen;
    BYTE Data[8];
} CAN_Message_type;

typedef struct {
    DWORD MessageID;
    BOOLEAN bExtended;
    BOOLEAN RemoteReq;
    BYTE DataLen;
    BYTE Data[8];
} CAN_MessageEx_type;

#pragma pack(push, 1)
typedef struct {
    BYTE DeviceType;
    DWORD DeviceID;
    BOOLEAN bAttached;
    BOOLEAN bInUse;
} DeviceInfo_type;
#pragma pack(pop)

static int ports[MAX_NR_OF_CARDS] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                     -1, -1, -1, -1, -1, -1, -1, -1};
static BYTE bauds[MAX_NR_OF_CARDS];

static int attached(void) {
    const char *text = getenv("SIMCAN_ISCAN_DEVICES");
    int n = text ? atoi(text) : 2;
    return n < 0 ? 0 : (n > MAX_NR_OF_CARDS ? MAX_NR_OF_CARDS : n);
}

static BYTE init(BYTE dev, BYTE baud) {
    if (dev >= attached()) return CAN_DEVICE_NOT_FOUND;
    if (baud > MAX_BAUD) return CAN_INVALID_PARAMETER;
    if (ports[dev] >= 0) return CAN_DEVICE_ALREADY_IN_USE;
    int port = sim_port_open(0, 4096);
    if (port < 0) return CAN_DEVICE_NOT_FOUND;
    ports[dev] = port;
    bauds[dev] = baud;
    /* CAN_OFFLINE (0): open, but not on the bus */
    sim_port_set_on_bus(port, baud != 0);
    return CAN_NO_ERROR;
}

EXPORT BYTE isCAN_DeviceInitEx(BYTE dev, BYTE baud) { return init(dev, baud); }
EXPORT BYTE isCAN_DeviceInit(BYTE dev, BYTE baud) { return init(dev, baud); }

EXPORT BYTE isCAN_SetBaud(BYTE dev, BYTE baud) {
    if (dev >= MAX_NR_OF_CARDS || ports[dev] < 0) return CAN_DEVICE_NOT_INITIALIZED;
    if (baud > MAX_BAUD) return CAN_INVALID_PARAMETER;
    bauds[dev] = baud;
    sim_port_set_on_bus(ports[dev], baud != 0);
    return CAN_NO_ERROR;
}

EXPORT BYTE isCAN_CloseDevice(BYTE dev) {
    if (dev >= MAX_NR_OF_CARDS || ports[dev] < 0) return CAN_DEVICE_NOT_INITIALIZED;
    sim_port_close(ports[dev]);
    ports[dev] = -1;
    return CAN_NO_ERROR;
}

static BYTE state_code(int channel) {
    int state = SIM_ACTIVE;
    sim_channel_state(channel, &state, NULL, NULL);
    switch (state) {
    case SIM_BUSOFF: return CAN_BUS_OFF;
    case SIM_PASSIVE: return CAN_ERROR_PASSIVE;
    case SIM_WARNING: return CAN_ERROR_WARNING;
    default: return CAN_BUS_ERROR;
    }
}

EXPORT BYTE isCAN_TransmitMessageEx(BYTE dev, CAN_MessageEx_type *msg) {
    if (dev >= MAX_NR_OF_CARDS || ports[dev] < 0) return CAN_DEVICE_NOT_INITIALIZED;
    if (!msg || msg->DataLen > 8) return CAN_INVALID_PARAMETER;
    if (msg->MessageID > (msg->bExtended ? 0x1FFFFFFFu : 0x7FFu)) return CAN_INVALID_PARAMETER;
    sim_frame frame;
    memset(&frame, 0, sizeof frame);
    frame.id = msg->MessageID;
    frame.flags = (msg->bExtended ? SIM_EXT : 0) | (msg->RemoteReq ? SIM_RTR : 0);
    frame.len = msg->DataLen;
    if (!msg->RemoteReq) memcpy(frame.data, msg->Data, msg->DataLen);
    int rc = sim_port_send(ports[dev], &frame);
    if (rc == SIM_EBUSOFF) return CAN_BUS_OFF;
    if (rc == SIM_EOFFBUS) return CAN_DEVICE_NOT_ONLINE;
    return rc == SIM_OK ? CAN_NO_ERROR : CAN_DEVICE_NOT_INITIALIZED;
}

EXPORT BYTE isCAN_ReceiveMessageEx(BYTE dev, CAN_MessageEx_type *msg) {
    if (dev >= MAX_NR_OF_CARDS || ports[dev] < 0) return CAN_DEVICE_NOT_INITIALIZED;
    if (!msg) return CAN_INVALID_PARAMETER;
    int port = ports[dev];
    if (sim_port_overrun(port, 1)) return CAN_DATA_OVERRUN;
    sim_frame frame;
    if (sim_port_recv(port, &frame, 0) != 1) return CAN_RECEIVE_BUFFER_EMPTY;
    if (frame.flags & SIM_ERR) return state_code(sim_port_channel(port));
    memset(msg, 0, sizeof *msg);
    msg->MessageID = frame.id;
    msg->bExtended = (frame.flags & SIM_EXT) != 0;
    msg->RemoteReq = (frame.flags & SIM_RTR) != 0;
    msg->DataLen = frame.len > 8 ? 8 : frame.len;
    memcpy(msg->Data, frame.data, msg->DataLen);
    return CAN_NO_ERROR;
}

/* The 11-bit API: an extended frame waiting is reported, not truncated. */
EXPORT BYTE isCAN_ReceiveMessage(BYTE dev, CAN_Message_type *msg) {
    CAN_MessageEx_type ex;
    BYTE rc = isCAN_ReceiveMessageEx(dev, &ex);
    if (rc != CAN_NO_ERROR) return rc;
    if (ex.bExtended) return CAN_RECEIVED_EFF_MESSAGE;
    msg->MessageID = (WORD)ex.MessageID;
    msg->RemoteReq = ex.RemoteReq;
    msg->DataLen = ex.DataLen;
    memcpy(msg->Data, ex.Data, 8);
    return CAN_NO_ERROR;
}

EXPORT BYTE isCAN_GetDriverConfiguration(BYTE dev, DeviceInfo_type *info) {
    if (dev >= MAX_NR_OF_CARDS) return CAN_INVALID_PARAMETER;
    if (!info) return CAN_INVALID_PARAMETER;
    memset(info, 0, sizeof *info);
    if (dev >= attached()) return CAN_DEVICE_NOT_FOUND;
    info->DeviceType = DEVTYPE_USB;
    info->DeviceID = 1000u + dev;
    info->bAttached = 1;
    info->bInUse = ports[dev] >= 0;
    return CAN_NO_ERROR;
}
