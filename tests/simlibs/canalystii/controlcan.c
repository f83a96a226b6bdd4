/*
 * A simulated ControlCAN library (the USBCAN-II / CANalyst-II driver of ZLG and Chuangxin), on
 * simcore.
 *
 * Functions, structures (VCI_CAN_OBJ, VCI_INIT_CONFIG, VCI_ERR_INFO, VCI_CAN_STATUS,
 * VCI_BOARD_INFO), the device type VCI_USBCAN2 = 4, the return values STATUS_OK = 1 /
 * STATUS_ERR = 0 and the error bits ERR_* are those of the public header ControlCAN.h (where
 * DWORD, UINT and ULONG are unsigned int). Timestamps are in units of 0.1 ms with TimeFlag = 1,
 * as the vendor's manual describes them.
 *
 * Simulation: SIMCAN_CANALYST_DEVICES devices (default 2) with two channels each; channel c of
 * every device is wired to simcore channel c, so device 0 and device 1 see each other on the
 * same channel number. A channel receives only after VCI_InitCAN and VCI_StartCAN. Error
 * frames injected through simctl are not delivered as frames (the driver has none) but set
 * ERR_CAN_BUSERR in the channel's error information; the bus state comes from VCI_ReadCANStatus
 * (SJA1000 status register bits and error counters).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simcore.h"

#define EXPORT __attribute__((visibility("default")))

typedef unsigned int DWORD;
typedef unsigned int UINT;
typedef unsigned int ULONG;
typedef unsigned char BYTE;
typedef unsigned char UCHAR;
typedef unsigned short USHORT;

#define VCI_USBCAN2 4
#define STATUS_OK 1
#define STATUS_ERR 0
#define ERR_CAN_BUSERR 0x0010
#define ERR_DEVICEOPENED 0x0100
#define ERR_DEVICENOTOPEN 0x0400
#define ERR_BUFFEROVERFLOW 0x0800
#define ERR_DEVICENOTEXIST 0x1000
#define ERR_CMDFAILED 0x4000

typedef struct _VCI_BOARD_INFO {
    USHORT hw_Version, fw_Version, dr_Version, in_Version, irq_Num;
    BYTE can_Num;
    char str_Serial_Num[20];
    char str_hw_Type[40];
    USHORT Reserved[4];
} VCI_BOARD_INFO;

typedef struct _VCI_CAN_OBJ {
    UINT ID;
    UINT TimeStamp;
    BYTE TimeFlag;
    BYTE SendType;
    BYTE RemoteFlag;
    BYTE ExternFlag;
    BYTE DataLen;
    BYTE Data[8];
    BYTE Reserved[3];
} VCI_CAN_OBJ;

typedef struct _VCI_CAN_STATUS {
    UCHAR ErrInterrupt, regMode, regStatus, regALCapture, regECCapture, regEWLimit,
        regRECounter, regTECounter;
    DWORD Reserved;
} VCI_CAN_STATUS;

typedef struct _ERR_INFO {
    UINT ErrCode;
    BYTE Passive_ErrData[3];
    BYTE ArLost_ErrData;
} VCI_ERR_INFO;

typedef struct _INIT_CONFIG {
    DWORD AccCode;
    DWORD AccMask;
    DWORD Reserved;
    UCHAR Filter;
    UCHAR Timing0;
    UCHAR Timing1;
    UCHAR Mode;
} VCI_INIT_CONFIG;

#define MAX_DEVICES 8
#define CHANNELS 2
#define DEVICE_LEVEL 0xFFFFFFFFu

typedef struct {
    int port; /* -1 until VCI_InitCAN */
    int started;
    UINT err;
    VCI_INIT_CONFIG config;
} channel_t;

typedef struct {
    int open;
    UINT err;
    channel_t ch[CHANNELS];
} device_t;

static device_t devices[MAX_DEVICES];

static DWORD count(void) {
    const char *text = getenv("SIMCAN_CANALYST_DEVICES");
    int n = text ? atoi(text) : 2;
    return (DWORD)(n < 0 ? 0 : (n > MAX_DEVICES ? MAX_DEVICES : n));
}

static device_t *device(DWORD type, DWORD index) {
    if (type != VCI_USBCAN2 || index >= count()) return NULL;
    return &devices[index];
}

static channel_t *channel(DWORD type, DWORD index, DWORD can) {
    device_t *d = device(type, index);
    if (!d) return NULL;
    if (!d->open || can >= CHANNELS) {
        d->err |= ERR_DEVICENOTOPEN;
        return NULL;
    }
    return &d->ch[can];
}

EXPORT DWORD VCI_OpenDevice(DWORD type, DWORD index, DWORD reserved) {
    (void)reserved;
    device_t *d = device(type, index);
    if (!d) return STATUS_ERR;
    if (d->open) {
        d->err |= ERR_DEVICEOPENED;
        return STATUS_ERR;
    }
    memset(d, 0, sizeof *d);
    for (int c = 0; c < CHANNELS; c++) d->ch[c].port = -1;
    d->open = 1;
    return STATUS_OK;
}

EXPORT DWORD VCI_CloseDevice(DWORD type, DWORD index) {
    device_t *d = device(type, index);
    if (!d || !d->open) return STATUS_ERR;
    for (int c = 0; c < CHANNELS; c++)
        if (d->ch[c].port >= 0) sim_port_close(d->ch[c].port);
    d->open = 0;
    return STATUS_OK;
}

EXPORT DWORD VCI_InitCAN(DWORD type, DWORD index, DWORD can, VCI_INIT_CONFIG *config) {
    channel_t *ch = channel(type, index, can);
    if (!ch || !config) return STATUS_ERR;
    /* Timing1 0x00 is no SJA1000 bit timing: TSEG1 and TSEG2 of one quantum each. */
    if (config->Timing1 == 0) {
        ch->err |= ERR_CMDFAILED;
        return STATUS_ERR;
    }
    if (ch->port < 0) {
        ch->port = sim_port_open((int)can, 2000);
        if (ch->port < 0) return STATUS_ERR;
        sim_port_set_on_bus(ch->port, 0);
    }
    ch->config = *config;
    return STATUS_OK;
}

EXPORT DWORD VCI_StartCAN(DWORD type, DWORD index, DWORD can) {
    channel_t *ch = channel(type, index, can);
    if (!ch || ch->port < 0) return STATUS_ERR;
    ch->started = 1;
    sim_port_set_on_bus(ch->port, 1);
    return STATUS_OK;
}

EXPORT DWORD VCI_ResetCAN(DWORD type, DWORD index, DWORD can) {
    channel_t *ch = channel(type, index, can);
    if (!ch || ch->port < 0) return STATUS_ERR;
    ch->started = 0;
    sim_port_set_on_bus(ch->port, 0);
    sim_channel_reset((int)can);
    return STATUS_OK;
}

EXPORT DWORD VCI_ClearBuffer(DWORD type, DWORD index, DWORD can) {
    channel_t *ch = channel(type, index, can);
    if (!ch || ch->port < 0) return STATUS_ERR;
    sim_port_clear(ch->port);
    return STATUS_OK;
}

EXPORT ULONG VCI_GetReceiveNum(DWORD type, DWORD index, DWORD can) {
    channel_t *ch = channel(type, index, can);
    if (!ch || ch->port < 0) return 0;
    return (ULONG)sim_port_pending(ch->port);
}

EXPORT ULONG VCI_Transmit(DWORD type, DWORD index, DWORD can, VCI_CAN_OBJ *send, UINT len) {
    channel_t *ch = channel(type, index, can);
    if (!ch || !send || ch->port < 0 || !ch->started) return 0;
    ULONG sent = 0;
    for (UINT i = 0; i < len; i++) {
        const VCI_CAN_OBJ *obj = &send[i];
        if (obj->DataLen > 8 || obj->ID > (obj->ExternFlag ? 0x1FFFFFFFu : 0x7FFu)) {
            ch->err |= ERR_CMDFAILED;
            break;
        }
        sim_frame frame;
        memset(&frame, 0, sizeof frame);
        frame.id = obj->ID;
        frame.flags = (obj->ExternFlag ? SIM_EXT : 0) | (obj->RemoteFlag ? SIM_RTR : 0);
        frame.len = obj->DataLen;
        if (!obj->RemoteFlag) memcpy(frame.data, obj->Data, obj->DataLen);
        if (sim_port_send(ch->port, &frame) != SIM_OK) {
            ch->err |= ERR_CAN_BUSERR;
            break;
        }
        sent++;
    }
    return sent;
}

EXPORT ULONG VCI_Receive(DWORD type, DWORD index, DWORD can, VCI_CAN_OBJ *receive, UINT len,
                         int wait_ms) {
    channel_t *ch = channel(type, index, can);
    if (!ch || !receive || ch->port < 0) return 0xFFFFFFFFu;
    if (sim_port_overrun(ch->port, 1)) ch->err |= ERR_BUFFEROVERFLOW;
    ULONG got = 0;
    while (got < len) {
        sim_frame frame;
        int rc = sim_port_recv(ch->port, &frame, got == 0 ? wait_ms : 0);
        if (rc != 1) break;
        if (frame.flags & SIM_ERR) {
            ch->err |= ERR_CAN_BUSERR;
            continue;
        }
        VCI_CAN_OBJ *obj = &receive[got++];
        memset(obj, 0, sizeof *obj);
        obj->ID = frame.id;
        obj->TimeStamp = (UINT)(frame.time_us / 100u); /* 0.1 ms */
        obj->TimeFlag = 1;
        obj->RemoteFlag = (frame.flags & SIM_RTR) != 0;
        obj->ExternFlag = (frame.flags & SIM_EXT) != 0;
        obj->DataLen = frame.len > 8 ? 8 : frame.len;
        memcpy(obj->Data, frame.data, obj->DataLen);
    }
    return got;
}

EXPORT DWORD VCI_ReadErrInfo(DWORD type, DWORD index, DWORD can, VCI_ERR_INFO *info) {
    device_t *d = device(type, index);
    if (!d || !info) return STATUS_ERR;
    memset(info, 0, sizeof *info);
    if (can == DEVICE_LEVEL) {
        info->ErrCode = d->err;
        d->err = 0;
        return STATUS_OK;
    }
    if (can >= CHANNELS) return STATUS_ERR;
    info->ErrCode = d->ch[can].err;
    d->ch[can].err = 0;
    return STATUS_OK;
}

EXPORT DWORD VCI_ReadCANStatus(DWORD type, DWORD index, DWORD can, VCI_CAN_STATUS *status) {
    channel_t *ch = channel(type, index, can);
    if (!ch || !status) return STATUS_ERR;
    memset(status, 0, sizeof *status);
    int state = SIM_ACTIVE, tx = 0, rx = 0;
    sim_channel_state((int)can, &state, &tx, &rx);
    /* SJA1000 status register: bit 7 bus status (bus off), bit 6 error status (warning) */
    if (state == SIM_BUSOFF) status->regStatus |= 0x80;
    if (state != SIM_ACTIVE) status->regStatus |= 0x40;
    status->regTECounter = (UCHAR)(tx > 255 ? 255 : tx);
    status->regRECounter = (UCHAR)(rx > 255 ? 255 : rx);
    status->regEWLimit = 96;
    return STATUS_OK;
}

EXPORT DWORD VCI_ReadBoardInfo(DWORD type, DWORD index, VCI_BOARD_INFO *info) {
    device_t *d = device(type, index);
    if (!d || !d->open || !info) return STATUS_ERR;
    memset(info, 0, sizeof *info);
    info->can_Num = CHANNELS;
    info->fw_Version = 0x0310;
    strcpy(info->str_Serial_Num, "SIM0000");
    info->str_Serial_Num[6] = (char)('0' + index);
    strcpy(info->str_hw_Type, "USBCAN-II (simulated)");
    return STATUS_OK;
}
