/*
 * The PCAN-Basic API as the simulated library exports it. Values, type widths, structure
 * layouts and function signatures are PEAK-System's public header PCANBasic.h (Linux package
 * libpcanbasic; the same header is vendored publicly in e.g. zzuummaa/pcan-basic-sys and
 * aloktj/Rail-Hmi-Door-Simulator external/pcan-basic/Include): TPCANHandle = WORD,
 * TPCANStatus = DWORD, TPCANParameter = BYTE, TPCANMessageType = BYTE, TPCANTimestampFD =
 * UINT64 (microseconds). Only what the simulation implements is declared here; written for
 * our tests, no vendor code.
 */
#ifndef PCANBASIC_SIM_H
#define PCANBASIC_SIM_H

#include <stdint.h>

typedef uint16_t TPCANHandle;
typedef uint32_t TPCANStatus;
typedef uint8_t TPCANParameter;
typedef uint8_t TPCANMessageType;
typedef uint8_t TPCANMode;
typedef uint16_t TPCANBaudrate;
typedef uint64_t TPCANTimestampFD;

/* Channels (PCANBasic.h "Currently defined and supported PCAN channels"). */
#define PCAN_NONEBUS 0x00U
#define PCAN_PCIBUS1 0x41U
#define PCAN_USBBUS1 0x51U
#define PCAN_USBBUS8 0x58U
#define PCAN_USBBUS9 0x509U
#define PCAN_USBBUS16 0x510U

/* Status codes (PCANBasic.h "Represent the PCAN error and status codes"). */
#define PCAN_ERROR_OK 0x00000U
#define PCAN_ERROR_XMTFULL 0x00001U
#define PCAN_ERROR_OVERRUN 0x00002U
#define PCAN_ERROR_BUSLIGHT 0x00004U
#define PCAN_ERROR_BUSHEAVY 0x00008U
#define PCAN_ERROR_BUSWARNING PCAN_ERROR_BUSHEAVY
#define PCAN_ERROR_BUSPASSIVE 0x40000U
#define PCAN_ERROR_BUSOFF 0x00010U
#define PCAN_ERROR_QRCVEMPTY 0x00020U
#define PCAN_ERROR_QOVERRUN 0x00040U
#define PCAN_ERROR_QXMTFULL 0x00080U
#define PCAN_ERROR_REGTEST 0x00100U
#define PCAN_ERROR_NODRIVER 0x00200U
#define PCAN_ERROR_HWINUSE 0x00400U
#define PCAN_ERROR_NETINUSE 0x00800U
#define PCAN_ERROR_ILLHW 0x01400U
#define PCAN_ERROR_ILLNET 0x01800U
#define PCAN_ERROR_ILLCLIENT 0x01C00U
#define PCAN_ERROR_RESOURCE 0x02000U
#define PCAN_ERROR_ILLPARAMTYPE 0x04000U
#define PCAN_ERROR_ILLPARAMVAL 0x08000U
#define PCAN_ERROR_UNKNOWN 0x10000U
#define PCAN_ERROR_ILLDATA 0x20000U
#define PCAN_ERROR_ILLMODE 0x80000U
#define PCAN_ERROR_CAUTION 0x2000000U
#define PCAN_ERROR_INITIALIZE 0x4000000U
#define PCAN_ERROR_ILLOPERATION 0x8000000U

/* Devices. */
#define PCAN_USB 0x05U

/* Parameters (PCANBasic.h "PCAN parameters"; PCAN_DEVICE_NUMBER is the older name of
 * PCAN_DEVICE_ID). */
#define PCAN_DEVICE_ID 0x01U
#define PCAN_DEVICE_NUMBER PCAN_DEVICE_ID
#define PCAN_RECEIVE_EVENT 0x03U
#define PCAN_MESSAGE_FILTER 0x04U
#define PCAN_API_VERSION 0x05U
#define PCAN_CHANNEL_VERSION 0x06U
#define PCAN_BUSOFF_AUTORESET 0x07U
#define PCAN_LISTEN_ONLY 0x08U
#define PCAN_CHANNEL_CONDITION 0x0DU
#define PCAN_HARDWARE_NAME 0x0EU
#define PCAN_CONTROLLER_NUMBER 0x10U
#define PCAN_CHANNEL_IDENTIFYING 0x15U
#define PCAN_CHANNEL_FEATURES 0x16U
#define PCAN_BITRATE_INFO 0x18U
#define PCAN_BITRATE_INFO_FD 0x19U
#define PCAN_BUSSPEED_NOMINAL 0x1AU
#define PCAN_BUSSPEED_DATA 0x1BU
#define PCAN_ALLOW_STATUS_FRAMES 0x1EU
#define PCAN_ALLOW_RTR_FRAMES 0x1FU
#define PCAN_ALLOW_ERROR_FRAMES 0x20U
#define PCAN_ATTACHED_CHANNELS_COUNT 0x2AU
#define PCAN_ATTACHED_CHANNELS 0x2BU
#define PCAN_ALLOW_ECHO_FRAMES 0x2CU

#define PCAN_PARAMETER_OFF 0x00U
#define PCAN_PARAMETER_ON 0x01U
#define PCAN_FILTER_CLOSE 0x00U
#define PCAN_FILTER_OPEN 0x01U
#define PCAN_FILTER_CUSTOM 0x02U
#define PCAN_CHANNEL_UNAVAILABLE 0x00U
#define PCAN_CHANNEL_AVAILABLE 0x01U
#define PCAN_CHANNEL_OCCUPIED 0x02U
#define FEATURE_FD_CAPABLE 0x01U

/* Message types. */
#define PCAN_MESSAGE_STANDARD 0x00U
#define PCAN_MESSAGE_RTR 0x01U
#define PCAN_MESSAGE_EXTENDED 0x02U
#define PCAN_MESSAGE_FD 0x04U
#define PCAN_MESSAGE_BRS 0x08U
#define PCAN_MESSAGE_ESI 0x10U
#define PCAN_MESSAGE_ECHO 0x20U
#define PCAN_MESSAGE_ERRFRAME 0x40U
#define PCAN_MESSAGE_STATUS 0x80U
#define PCAN_MODE_STANDARD PCAN_MESSAGE_STANDARD
#define PCAN_MODE_EXTENDED PCAN_MESSAGE_EXTENDED

#define MAX_LENGTH_HARDWARE_NAME 33

typedef struct tagTPCANMsg {
    uint32_t ID;
    TPCANMessageType MSGTYPE;
    uint8_t LEN;
    uint8_t DATA[8];
} TPCANMsg;

/* Total microseconds = micros + 1000 * millis + 0x100000000 * 1000 * millis_overflow. */
typedef struct tagTPCANTimestamp {
    uint32_t millis;
    uint16_t millis_overflow;
    uint16_t micros;
} TPCANTimestamp;

typedef struct tagTPCANMsgFD {
    uint32_t ID;
    TPCANMessageType MSGTYPE;
    uint8_t DLC; /* data length code 0..15, not a byte count */
    uint8_t DATA[64];
} TPCANMsgFD;

typedef struct tagTPCANChannelInformation {
    TPCANHandle channel_handle;
    uint8_t device_type;
    uint8_t controller_number;
    uint32_t device_features;
    char device_name[MAX_LENGTH_HARDWARE_NAME];
    uint32_t device_id;
    uint32_t channel_condition;
} TPCANChannelInformation;

TPCANStatus CAN_Initialize(TPCANHandle Channel, TPCANBaudrate Btr0Btr1, uint8_t HwType,
                           uint32_t IOPort, uint16_t Interrupt);
TPCANStatus CAN_InitializeFD(TPCANHandle Channel, char *BitrateFD);
TPCANStatus CAN_Uninitialize(TPCANHandle Channel);
TPCANStatus CAN_Reset(TPCANHandle Channel);
TPCANStatus CAN_GetStatus(TPCANHandle Channel);
TPCANStatus CAN_Read(TPCANHandle Channel, TPCANMsg *MessageBuffer, TPCANTimestamp *TimestampBuffer);
TPCANStatus CAN_ReadFD(TPCANHandle Channel, TPCANMsgFD *MessageBuffer,
                       TPCANTimestampFD *TimestampBuffer);
TPCANStatus CAN_Write(TPCANHandle Channel, TPCANMsg *MessageBuffer);
TPCANStatus CAN_WriteFD(TPCANHandle Channel, TPCANMsgFD *MessageBuffer);
TPCANStatus CAN_FilterMessages(TPCANHandle Channel, uint32_t FromID, uint32_t ToID, TPCANMode Mode);
TPCANStatus CAN_GetValue(TPCANHandle Channel, TPCANParameter Parameter, void *Buffer,
                         uint32_t BufferLength);
TPCANStatus CAN_SetValue(TPCANHandle Channel, TPCANParameter Parameter, void *Buffer,
                         uint32_t BufferLength);
TPCANStatus CAN_GetErrorText(TPCANStatus Error, uint16_t Language, char *Buffer);

/* Test control beyond simcore's: set a channel's bus state and queue the status message
 * every handle on it receives (what the driver does when the controller's state changes). */
int simpcan_set_state(int channel, int state, int tx_errors, int rx_errors);
/* Uninitialize every handle, forget every parameter, then simctl_reset(). */
void simpcan_reset(void);

#endif
