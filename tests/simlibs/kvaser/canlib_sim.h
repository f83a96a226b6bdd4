/*
 * The part of Kvaser CANlib's public API that the simulated library implements: types,
 * constants and structure layouts as Kvaser's public headers define them (include/canlib.h and
 * include/canstat.h of Kvaser's linuxcan SDK, as mirrored in github.com/astuff/kvaser-linuxcan
 * at commit 76c10fe4). Only facts (names, values, signatures) are taken; the code is ours.
 */
#ifndef CANLIB_SIM_H
#define CANLIB_SIM_H

#include <stddef.h>

typedef int canHandle;
typedef canHandle CanHandle;
typedef int canStatus; /* canstat.h: an enum of the canOK / canERR_* values */

/* canstat.h: status codes. */
#define canOK 0
#define canERR_PARAM (-1)
#define canERR_NOMSG (-2)
#define canERR_NOTFOUND (-3)
#define canERR_NOMEM (-4)
#define canERR_NOCHANNELS (-5)
#define canERR_INTERRUPTED (-6)
#define canERR_TIMEOUT (-7)
#define canERR_NOTINITIALIZED (-8)
#define canERR_NOHANDLES (-9)
#define canERR_INVHANDLE (-10)
#define canERR_DRIVER (-12)
#define canERR_TXBUFOFL (-13)
#define canERR_HARDWARE (-15)
#define canERR_NOT_SUPPORTED (-19)
#define canERR_NOCARD (-26)
#define canERR_NOT_IMPLEMENTED (-32)
#define canERR_BUFFER_TOO_SMALL (-43)

/* canstat.h: canReadStatus flags. */
#define canSTAT_ERROR_PASSIVE 0x00000001
#define canSTAT_BUS_OFF 0x00000002
#define canSTAT_ERROR_WARNING 0x00000004
#define canSTAT_ERROR_ACTIVE 0x00000008
#define canSTAT_TX_PENDING 0x00000010
#define canSTAT_RX_PENDING 0x00000020
#define canSTAT_SW_OVERRUN 0x00000400

/* canstat.h: message flags. */
#define canMSG_RTR 0x0001
#define canMSG_STD 0x0002
#define canMSG_EXT 0x0004
#define canMSG_ERROR_FRAME 0x0020
#define canMSG_TXACK 0x0040
#define canMSGERR_SW_OVERRUN 0x0400
#define canMSG_LOCAL_TXACK 0x10000000
#define canMSGERR_BUSERR 0xF800
#define canFDMSG_FDF 0x010000
#define canFDMSG_BRS 0x020000
#define canFDMSG_ESI 0x040000

/* canlib.h: canOpenChannel flags. */
#define canOPEN_EXCLUSIVE 0x0008
#define canOPEN_REQUIRE_EXTENDED 0x0010
#define canOPEN_ACCEPT_VIRTUAL 0x0020
#define canOPEN_ACCEPT_LARGE_DLC 0x0200
#define canOPEN_CAN_FD 0x0400
#define canOPEN_CAN_FD_NONISO 0x0800

/* canlib.h: driver modes (canSetBusOutputControl). */
#define canDRIVER_SILENT 1
#define canDRIVER_NORMAL 4

/* canlib.h: predefined bit rates. */
#define canBITRATE_1M (-1)
#define canBITRATE_500K (-2)
#define canBITRATE_250K (-3)
#define canBITRATE_125K (-4)
#define canBITRATE_100K (-5)
#define canBITRATE_62K (-6)
#define canBITRATE_50K (-7)
#define canBITRATE_83K (-8)
#define canBITRATE_10K (-9)
#define canFD_BITRATE_500K_80P (-1000)
#define canFD_BITRATE_8M_70P (-1006)
#define canFD_BITRATE_2M_60P (-1007)

/* canlib.h: canIoCtl function codes. */
#define canIOCTL_CLEAR_ERROR_COUNTERS 5
#define canIOCTL_SET_TIMER_SCALE 6
#define canIOCTL_SET_TXACK 7
#define canIOCTL_GET_RX_BUFFER_LEVEL 8
#define canIOCTL_GET_TX_BUFFER_LEVEL 9
#define canIOCTL_FLUSH_RX_BUFFER 10
#define canIOCTL_FLUSH_TX_BUFFER 11
#define canIOCTL_GET_TIMER_SCALE 12
#define canIOCTL_GET_TXACK 31
#define canIOCTL_SET_LOCAL_TXECHO 32
#define canIOCTL_SET_LOCAL_TXACK 46

/* canlib.h: canGetChannelData items. */
#define canCHANNELDATA_CHANNEL_CAP 1
#define canCHANNELDATA_CHANNEL_FLAGS 3
#define canCHANNELDATA_CARD_TYPE 4
#define canCHANNELDATA_CARD_NUMBER 5
#define canCHANNELDATA_CHAN_NO_ON_CARD 6
#define canCHANNELDATA_CARD_SERIAL_NO 7
#define canCHANNELDATA_CARD_UPC_NO 11
#define canCHANNELDATA_CHANNEL_NAME 13
#define canCHANNELDATA_DEVDESCR_ASCII 26

/* canlib.h: channel capabilities and channel flags. */
#define canCHANNEL_CAP_EXTENDED_CAN 0x00000001u
#define canCHANNEL_CAP_BUS_STATISTICS 0x00000002u
#define canCHANNEL_CAP_ERROR_COUNTERS 0x00000004u
#define canCHANNEL_CAP_TXACKNOWLEDGE 0x00000080u
#define canCHANNEL_CAP_VIRTUAL 0x00010000u
#define canCHANNEL_CAP_CAN_FD 0x00080000u
#define canCHANNEL_CAP_SILENT_MODE 0x00200000u
#define canCHANNEL_IS_EXCLUSIVE 0x0001
#define canCHANNEL_IS_OPEN 0x0002
#define canCHANNEL_IS_CANFD 0x0004

/* canlib.h: kvFlashLeds actions. */
#define kvLED_ACTION_ALL_LEDS_ON 0
#define kvLED_ACTION_ALL_LEDS_OFF 1

/* canlib.h: canBusStatistics (unsigned long fields: 4 bytes on Windows, 8 on 64-bit Linux). */
typedef struct canBusStatistics_s {
    unsigned long stdData;
    unsigned long stdRemote;
    unsigned long extData;
    unsigned long extRemote;
    unsigned long errFrame;
    unsigned long busLoad; /* 0 .. 10000 = 0.00 % .. 100.00 % */
    unsigned long overruns;
} canBusStatistics;

#endif
