/*
 * The part of the Vector XL Driver Library's public header (vxlapi.h) that the simulated
 * library implements: types, constants and structure layouts, as published by Vector in
 * vxlapi.h (github.com/vectorgrp/XCPlite, file vxlapi.h at commit 7877fb0b, "Copyright (c)
 * 2020 by Vector Informatik GmbH"). Written out here from those facts; no vendor code.
 *
 * Widths are those of the Windows ABI the real library has: `long` (XLlong, XLulong) is 32
 * bits there, so this header uses int32_t/uint32_t for them, and the structures that vxlapi.h
 * declares inside `#include <pshpack1.h>` are packed to 1 byte here too.
 */
#ifndef VXLAPI_SIM_H
#define VXLAPI_SIM_H

#include <stdint.h>

typedef short XLstatus;
typedef uint64_t XLuint64;
typedef int32_t XLlong;
typedef uint32_t XLulong;
typedef XLuint64 XLaccess;
typedef XLlong XLportHandle;
typedef void *XLhandle; /* HANDLE on Windows; the simulation puts a file descriptor in it */
typedef char *XLstringType;

/* Status codes (vxlapi.h, "driver status"). */
#define XL_SUCCESS 0
#define XL_PENDING 1
#define XL_ERR_QUEUE_IS_EMPTY 10
#define XL_ERR_QUEUE_IS_FULL 11
#define XL_ERR_TX_NOT_POSSIBLE 12
#define XL_ERR_NO_LICENSE 14
#define XL_ERR_WRONG_PARAMETER 101
#define XL_ERR_TWICE_REGISTER 110
#define XL_ERR_INVALID_CHAN_INDEX 111
#define XL_ERR_INVALID_ACCESS 112
#define XL_ERR_PORT_IS_OFFLINE 113
#define XL_ERR_CHAN_IS_ONLINE 116
#define XL_ERR_NOT_IMPLEMENTED 117
#define XL_ERR_INVALID_PORT 118
#define XL_ERR_HW_NOT_READY 120
#define XL_ERR_CMD_TIMEOUT 121
#define XL_ERR_HW_NOT_PRESENT 129
#define XL_ERR_NOTIFY_ALREADY_ACTIVE 131
#define XL_ERR_INVALID_TAG 132
#define XL_ERR_INVALID_SIZE 134
#define XL_ERR_NO_RESOURCES 152
#define XL_ERR_WRONG_VERSION 160
#define XL_ERR_CANNOT_OPEN_DRIVER 201
#define XL_ERR_WRONG_BUS_TYPE 202
#define XL_ERR_DLL_NOT_FOUND 203
#define XL_ERR_INVALID_CHANNEL_MASK 204
#define XL_ERR_NOT_SUPPORTED 205
#define XL_ERR_QUEUE_OVERRUN 216
#define XL_ERROR 255
#define XL_ERR_INVALID_DLC 0x0201
#define XL_ERR_INVALID_CANID 0x0202
#define XL_ERR_EDL_RTR 0x0204
#define XL_ERR_EDL_NOT_SET 0x0205
#define XL_ERR_UNKNOWN_FLAG 0x0206

#define XL_BUS_TYPE_NONE 0x00000000
#define XL_BUS_TYPE_CAN 0x00000001
#define XL_BUS_ACTIVE_CAP_CAN (XL_BUS_TYPE_CAN << 16)

#define XL_INTERFACE_VERSION_V3 3
#define XL_INTERFACE_VERSION_V4 4
#define XL_INTERFACE_VERSION XL_INTERFACE_VERSION_V3

#define XL_ACTIVATE_NONE 0
#define XL_ACTIVATE_RESET_CLOCK 8

#define XL_HWTYPE_VIRTUAL 1
#define XL_HWTYPE_VN1630 57

#define XL_CAN_STD 1
#define XL_CAN_EXT 2

#define XL_CHANNEL_FLAG_CANFD_ISO_SUPPORT 0x80000000u
#define XL_BUS_PARAMS_CANOPMODE_CAN20 0x01
#define XL_BUS_PARAMS_CANOPMODE_CANFD 0x02

/* XLevent tags (XLeventTag is an unsigned char). */
#define XL_RECEIVE_MSG 0x0001
#define XL_CHIP_STATE 0x0004
#define XL_TRANSMIT_MSG 0x000A

#define XL_CAN_EXT_MSG_ID 0x80000000u
#define XL_CAN_MSG_FLAG_ERROR_FRAME 0x01
#define XL_CAN_MSG_FLAG_OVERRUN 0x02
#define XL_CAN_MSG_FLAG_REMOTE_FRAME 0x10
#define XL_CAN_MSG_FLAG_TX_COMPLETED 0x40
#define XL_EVENT_FLAG_OVERRUN 0x01

#define XL_CHIPSTAT_BUSOFF 0x01
#define XL_CHIPSTAT_ERROR_PASSIVE 0x02
#define XL_CHIPSTAT_ERROR_WARNING 0x04
#define XL_CHIPSTAT_ERROR_ACTIVE 0x08

/* CAN FD (interface version 4) event tags and flags. */
#define XL_CAN_EV_TAG_RX_OK 0x0400
#define XL_CAN_EV_TAG_RX_ERROR 0x0401
#define XL_CAN_EV_TAG_TX_ERROR 0x0402
#define XL_CAN_EV_TAG_TX_OK 0x0404
#define XL_CAN_EV_TAG_CHIP_STATE 0x0409
#define XL_CAN_EV_TAG_TX_MSG 0x0440

#define XL_CAN_TXMSG_FLAG_EDL 0x0001
#define XL_CAN_TXMSG_FLAG_BRS 0x0002
#define XL_CAN_TXMSG_FLAG_RTR 0x0010
#define XL_CAN_TXMSG_FLAG_HIGHPRIO 0x0080
#define XL_CAN_TXMSG_FLAG_WAKEUP 0x0200
#define XL_CAN_RXMSG_FLAG_EDL 0x0001
#define XL_CAN_RXMSG_FLAG_BRS 0x0002
#define XL_CAN_RXMSG_FLAG_ESI 0x0004
#define XL_CAN_RXMSG_FLAG_RTR 0x0010
#define XL_CAN_QUEUE_OVERFLOW 0x100

#define XL_CAN_ERRC_BIT_ERROR 1
#define XL_CAN_ERRC_OTHER_ERROR 4
#define XL_CAN_ERRC_EXCPT_ERROR 9

#define XL_CAN_MAX_DATA_LEN 64
#define XL_CANFD_RX_EVENT_HEADER_SIZE 32
#define XL_CANFD_MAX_EVENT_SIZE 128
#define RX_FIFO_CANFD_QUEUE_SIZE_MAX 524288
#define RX_FIFO_CANFD_QUEUE_SIZE_MIN 8192

#define XL_MAX_LENGTH 31
#define XL_CONFIG_MAX_CHANNELS 64
#define XL_MAX_APPNAME 32
#define XL_INVALID_PORTHANDLE (-1)

#pragma pack(push, 1)

struct s_xl_can_msg { /* 32 bytes */
    unsigned int id;
    unsigned short flags;
    unsigned short dlc;
    XLuint64 res1;
    unsigned char data[8];
    XLuint64 res2;
};

struct s_xl_chip_state {
    unsigned char busStatus;
    unsigned char txErrorCounter;
    unsigned char rxErrorCounter;
};

union s_xl_tag_data {
    struct s_xl_can_msg msg;
    struct s_xl_chip_state chipState;
    unsigned char raw[32];
};

typedef struct s_xl_event { /* 48 bytes */
    unsigned char tag;
    unsigned char chanIndex;
    unsigned short transId;
    unsigned short portHandle;
    unsigned char flags;
    unsigned char reserved;
    XLuint64 timeStamp; /* nanoseconds */
    union s_xl_tag_data tagData;
} XLevent;

typedef struct {
    unsigned int arbitrationBitRate;
    unsigned int sjwAbr;
    unsigned int tseg1Abr;
    unsigned int tseg2Abr;
    unsigned int dataBitRate;
    unsigned int sjwDbr;
    unsigned int tseg1Dbr;
    unsigned int tseg2Dbr;
    unsigned char reserved;
    unsigned char options;
    unsigned char reserved1[2];
    unsigned int reserved2;
} XLcanFdConf;

typedef struct {
    unsigned int bitRate;
    unsigned char sjw;
    unsigned char tseg1;
    unsigned char tseg2;
    unsigned char sam;
} XLchipParams;

typedef struct {
    unsigned int busType;
    union {
        struct {
            unsigned int bitRate;
            unsigned char sjw;
            unsigned char tseg1;
            unsigned char tseg2;
            unsigned char sam;
            unsigned char outputMode;
            unsigned char reserved1[7];
            unsigned char canOpMode;
        } can;
        struct {
            unsigned int arbitrationBitRate;
            unsigned char sjwAbr;
            unsigned char tseg1Abr;
            unsigned char tseg2Abr;
            unsigned char samAbr;
            unsigned char outputMode;
            unsigned char sjwDbr;
            unsigned char tseg1Dbr;
            unsigned char tseg2Dbr;
            unsigned int dataBitRate;
            unsigned char canOpMode;
        } canFD;
        unsigned char raw[28];
    } data;
} XLbusParams;

typedef struct s_xl_channel_config {
    char name[XL_MAX_LENGTH + 1];
    unsigned char hwType;
    unsigned char hwIndex;
    unsigned char hwChannel;
    unsigned short transceiverType;
    unsigned short transceiverState;
    unsigned short configError;
    unsigned char channelIndex;
    XLuint64 channelMask;
    unsigned int channelCapabilities;
    unsigned int channelBusCapabilities;
    unsigned char isOnBus;
    unsigned int connectedBusType;
    XLbusParams busParams;
    unsigned int _doNotUse;
    unsigned int driverVersion;
    unsigned int interfaceVersion;
    unsigned int raw_data[10];
    unsigned int serialNumber;
    unsigned int articleNumber;
    char transceiverName[XL_MAX_LENGTH + 1];
    unsigned int specialCabFlags;
    unsigned int dominantTimeout;
    unsigned char dominantRecessiveDelay;
    unsigned char recessiveDominantDelay;
    unsigned char connectionInfo;
    unsigned char currentlyAvailableTimestamps;
    unsigned short minimalSupplyVoltage;
    unsigned short maximalSupplyVoltage;
    unsigned int maximalBaudrate;
    unsigned char fpgaCoreCapabilities;
    unsigned char specialDeviceStatus;
    unsigned short channelBusActiveCapabilities;
    unsigned short breakOffset;
    unsigned short delimiterOffset;
    unsigned int reserved[3];
} XLchannelConfig;

typedef struct s_xl_driver_config {
    unsigned int dllVersion;
    unsigned int channelCount;
    unsigned int reserved[10];
    XLchannelConfig channel[XL_CONFIG_MAX_CHANNELS];
} XLdriverConfig;

#pragma pack(pop)

/* The CAN FD structures are declared under pshpack8 in vxlapi.h; they are naturally aligned. */
typedef struct {
    unsigned int canId;
    unsigned int msgFlags;
    unsigned char dlc;
    unsigned char reserved[7];
    unsigned char data[XL_CAN_MAX_DATA_LEN];
} XL_CAN_TX_MSG;

typedef struct {
    unsigned short tag;
    unsigned short transId;
    unsigned char channelIndex;
    unsigned char reserved[3];
    union {
        XL_CAN_TX_MSG canMsg;
    } tagData;
} XLcanTxEvent; /* 88 bytes */

typedef struct {
    unsigned int canId;
    unsigned int msgFlags;
    unsigned int crc;
    unsigned char reserved1[12];
    unsigned short totalBitCnt;
    unsigned char dlc;
    unsigned char reserved[5];
    unsigned char data[XL_CAN_MAX_DATA_LEN];
} XL_CAN_EV_RX_MSG;

typedef struct {
    unsigned char busStatus;
    unsigned char txErrorCounter;
    unsigned char rxErrorCounter;
    unsigned char reserved;
    unsigned int reserved0;
} XL_CAN_EV_CHIP_STATE;

typedef struct {
    unsigned char errorCode;
    unsigned char reserved[95];
} XL_CAN_EV_ERROR;

typedef struct {
    unsigned int size;
    unsigned short tag;
    unsigned short channelIndex;
    unsigned int userHandle;
    unsigned short flagsChip;
    unsigned short reserved0;
    XLuint64 reserved1;
    XLuint64 timeStampSync; /* nanoseconds */
    union {
        unsigned char raw[XL_CANFD_MAX_EVENT_SIZE - XL_CANFD_RX_EVENT_HEADER_SIZE];
        XL_CAN_EV_RX_MSG canRxOkMsg;
        XL_CAN_EV_RX_MSG canTxOkMsg;
        XL_CAN_EV_ERROR canError;
        XL_CAN_EV_CHIP_STATE canChipState;
    } tagData;
} XLcanRxEvent; /* 128 bytes */

#endif
