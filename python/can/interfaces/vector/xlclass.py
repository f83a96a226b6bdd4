"""The Vector XL Driver Library's C structures as :mod:`ctypes` declarations.

Layouts as in Vector's public ``vxlapi.h`` (github.com/vectorgrp/XCPlite, vxlapi.h): the
classic structures (``XLevent``, ``XLdriverConfig``, ``XLchannelConfig``, ``XLbusParams``,
``XLcanFdConf``, ``XLchipParams``) are declared there inside ``#include <pshpack1.h>`` and are
packed to one byte here; the CAN FD events (``XLcanTxEvent``, ``XLcanRxEvent``) are naturally
aligned. ``long`` in the header (``XLlong``, ``XLulong``) is 32 bits wide on Windows, which is
the ABI of the real library, so those are ``c_int32``/``c_uint32`` here.

The receive and transmit paths of :class:`~can.interfaces.vector.VectorBus` read and write
these structures' bytes with :mod:`struct` (one call per event instead of one per field);
the ``*_FORMAT`` strings below are the same layouts in :mod:`struct` notation and a test
checks both against the simulated library's ``sizeof``/``offsetof``.
"""

from __future__ import annotations

import ctypes

XLstatus = ctypes.c_short
XLuint64 = ctypes.c_uint64
XLaccess = ctypes.c_uint64
XLlong = ctypes.c_int32
XLulong = ctypes.c_uint32
XLportHandle = XLlong
XLhandle = ctypes.c_void_p
XLstringType = ctypes.c_char_p
XLeventTag = ctypes.c_ubyte

#: XLevent with an ``s_xl_can_msg`` in its tag data: tag, chanIndex, transId, portHandle,
#: flags, reserved, timeStamp, then id, flags, dlc, res1, data[8], res2 (48 bytes).
XLEVENT_FORMAT = "<BBHHBBQIHHQ8sQ"
#: XLcanTxEvent: tag, transId, channelIndex, reserved[3], canId, msgFlags, dlc, reserved[7],
#: data[64] (88 bytes).
XLCANTXEVENT_FORMAT = "<HHB3xIIB7x64s"
#: XLcanRxEvent's header and the start of its tag data as XL_CAN_EV_RX_MSG: size, tag,
#: channelIndex, userHandle, flagsChip, reserved0, reserved1, timeStampSync, canId, msgFlags,
#: crc, reserved1[12], totalBitCnt, dlc, reserved[5] (64 bytes; data[64] follows).
XLCANRXEVENT_HEAD_FORMAT = "<IHHIHHQQIII12xHB5x"


class s_xl_can_msg(ctypes.Structure):
    _pack_ = 1
    _fields_ = [
        ("id", ctypes.c_uint),
        ("flags", ctypes.c_ushort),
        ("dlc", ctypes.c_ushort),
        ("res1", XLuint64),
        ("data", ctypes.c_ubyte * 8),
        ("res2", XLuint64),
    ]


class s_xl_chip_state(ctypes.Structure):
    _pack_ = 1
    _fields_ = [
        ("busStatus", ctypes.c_ubyte),
        ("txErrorCounter", ctypes.c_ubyte),
        ("rxErrorCounter", ctypes.c_ubyte),
    ]


class s_xl_tag_data(ctypes.Union):
    _pack_ = 1
    _fields_ = [("msg", s_xl_can_msg), ("chipState", s_xl_chip_state), ("raw", ctypes.c_ubyte * 32)]


class XLevent(ctypes.Structure):
    _pack_ = 1
    _fields_ = [
        ("tag", XLeventTag),
        ("chanIndex", ctypes.c_ubyte),
        ("transId", ctypes.c_ushort),
        ("portHandle", ctypes.c_ushort),
        ("flags", ctypes.c_ubyte),
        ("reserved", ctypes.c_ubyte),
        ("timeStamp", XLuint64),
        ("tagData", s_xl_tag_data),
    ]


class XLchipParams(ctypes.Structure):
    _pack_ = 1
    _fields_ = [
        ("bitRate", ctypes.c_uint),
        ("sjw", ctypes.c_ubyte),
        ("tseg1", ctypes.c_ubyte),
        ("tseg2", ctypes.c_ubyte),
        ("sam", ctypes.c_ubyte),
    ]


class XLcanFdConf(ctypes.Structure):
    _pack_ = 1
    _fields_ = [
        ("arbitrationBitRate", ctypes.c_uint),
        ("sjwAbr", ctypes.c_uint),
        ("tseg1Abr", ctypes.c_uint),
        ("tseg2Abr", ctypes.c_uint),
        ("dataBitRate", ctypes.c_uint),
        ("sjwDbr", ctypes.c_uint),
        ("tseg1Dbr", ctypes.c_uint),
        ("tseg2Dbr", ctypes.c_uint),
        ("reserved", ctypes.c_ubyte),
        ("options", ctypes.c_ubyte),
        ("reserved1", ctypes.c_ubyte * 2),
        ("reserved2", ctypes.c_uint),
    ]


class s_xl_bus_params_can(ctypes.Structure):
    _pack_ = 1
    _fields_ = [
        ("bitRate", ctypes.c_uint),
        ("sjw", ctypes.c_ubyte),
        ("tseg1", ctypes.c_ubyte),
        ("tseg2", ctypes.c_ubyte),
        ("sam", ctypes.c_ubyte),
        ("outputMode", ctypes.c_ubyte),
        ("reserved1", ctypes.c_ubyte * 7),
        ("canOpMode", ctypes.c_ubyte),
    ]


class s_xl_bus_params_canfd(ctypes.Structure):
    _pack_ = 1
    _fields_ = [
        ("arbitrationBitRate", ctypes.c_uint),
        ("sjwAbr", ctypes.c_ubyte),
        ("tseg1Abr", ctypes.c_ubyte),
        ("tseg2Abr", ctypes.c_ubyte),
        ("samAbr", ctypes.c_ubyte),
        ("outputMode", ctypes.c_ubyte),
        ("sjwDbr", ctypes.c_ubyte),
        ("tseg1Dbr", ctypes.c_ubyte),
        ("tseg2Dbr", ctypes.c_ubyte),
        ("dataBitRate", ctypes.c_uint),
        ("canOpMode", ctypes.c_ubyte),
    ]


class s_xl_bus_params_data(ctypes.Union):
    _pack_ = 1
    _fields_ = [
        ("can", s_xl_bus_params_can),
        ("canFD", s_xl_bus_params_canfd),
        ("raw", ctypes.c_ubyte * 28),
    ]


class XLbusParams(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("busType", ctypes.c_uint), ("data", s_xl_bus_params_data)]


class XLchannelConfig(ctypes.Structure):
    _pack_ = 1
    _fields_ = [
        ("name", ctypes.c_char * 32),
        ("hwType", ctypes.c_ubyte),
        ("hwIndex", ctypes.c_ubyte),
        ("hwChannel", ctypes.c_ubyte),
        ("transceiverType", ctypes.c_ushort),
        ("transceiverState", ctypes.c_ushort),
        ("configError", ctypes.c_ushort),
        ("channelIndex", ctypes.c_ubyte),
        ("channelMask", XLuint64),
        ("channelCapabilities", ctypes.c_uint),
        ("channelBusCapabilities", ctypes.c_uint),
        ("isOnBus", ctypes.c_ubyte),
        ("connectedBusType", ctypes.c_uint),
        ("busParams", XLbusParams),
        ("_doNotUse", ctypes.c_uint),
        ("driverVersion", ctypes.c_uint),
        ("interfaceVersion", ctypes.c_uint),
        ("raw_data", ctypes.c_uint * 10),
        ("serialNumber", ctypes.c_uint),
        ("articleNumber", ctypes.c_uint),
        ("transceiverName", ctypes.c_char * 32),
        ("specialCabFlags", ctypes.c_uint),
        ("dominantTimeout", ctypes.c_uint),
        ("dominantRecessiveDelay", ctypes.c_ubyte),
        ("recessiveDominantDelay", ctypes.c_ubyte),
        ("connectionInfo", ctypes.c_ubyte),
        ("currentlyAvailableTimestamps", ctypes.c_ubyte),
        ("minimalSupplyVoltage", ctypes.c_ushort),
        ("maximalSupplyVoltage", ctypes.c_ushort),
        ("maximalBaudrate", ctypes.c_uint),
        ("fpgaCoreCapabilities", ctypes.c_ubyte),
        ("specialDeviceStatus", ctypes.c_ubyte),
        ("channelBusActiveCapabilities", ctypes.c_ushort),
        ("breakOffset", ctypes.c_ushort),
        ("delimiterOffset", ctypes.c_ushort),
        ("reserved", ctypes.c_uint * 3),
    ]


class XLdriverConfig(ctypes.Structure):
    _pack_ = 1
    _fields_ = [
        ("dllVersion", ctypes.c_uint),
        ("channelCount", ctypes.c_uint),
        ("reserved", ctypes.c_uint * 10),
        ("channel", XLchannelConfig * 64),
    ]


class XL_CAN_TX_MSG(ctypes.Structure):
    _fields_ = [
        ("canId", ctypes.c_uint),
        ("msgFlags", ctypes.c_uint),
        ("dlc", ctypes.c_ubyte),
        ("reserved", ctypes.c_ubyte * 7),
        ("data", ctypes.c_ubyte * 64),
    ]


class XLcanTxEvent_tagData(ctypes.Union):
    _fields_ = [("canMsg", XL_CAN_TX_MSG)]


class XLcanTxEvent(ctypes.Structure):
    _fields_ = [
        ("tag", ctypes.c_ushort),
        ("transId", ctypes.c_ushort),
        ("channelIndex", ctypes.c_ubyte),
        ("reserved", ctypes.c_ubyte * 3),
        ("tagData", XLcanTxEvent_tagData),
    ]


class XL_CAN_EV_RX_MSG(ctypes.Structure):
    _fields_ = [
        ("canId", ctypes.c_uint),
        ("msgFlags", ctypes.c_uint),
        ("crc", ctypes.c_uint),
        ("reserved1", ctypes.c_ubyte * 12),
        ("totalBitCnt", ctypes.c_ushort),
        ("dlc", ctypes.c_ubyte),
        ("reserved", ctypes.c_ubyte * 5),
        ("data", ctypes.c_ubyte * 64),
    ]


class XL_CAN_EV_CHIP_STATE(ctypes.Structure):
    _fields_ = [
        ("busStatus", ctypes.c_ubyte),
        ("txErrorCounter", ctypes.c_ubyte),
        ("rxErrorCounter", ctypes.c_ubyte),
        ("reserved", ctypes.c_ubyte),
        ("reserved0", ctypes.c_uint),
    ]


class XL_CAN_EV_ERROR(ctypes.Structure):
    _fields_ = [("errorCode", ctypes.c_ubyte), ("reserved", ctypes.c_ubyte * 95)]


class XLcanRxEvent_tagData(ctypes.Union):
    _fields_ = [
        ("raw", ctypes.c_ubyte * 96),
        ("canRxOkMsg", XL_CAN_EV_RX_MSG),
        ("canTxOkMsg", XL_CAN_EV_RX_MSG),
        ("canError", XL_CAN_EV_ERROR),
        ("canChipState", XL_CAN_EV_CHIP_STATE),
    ]


class XLcanRxEvent(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint),
        ("tag", ctypes.c_ushort),
        ("channelIndex", ctypes.c_ushort),
        ("userHandle", ctypes.c_uint),
        ("flagsChip", ctypes.c_ushort),
        ("reserved0", ctypes.c_ushort),
        ("reserved1", XLuint64),
        ("timeStampSync", XLuint64),
        ("tagData", XLcanRxEvent_tagData),
    ]
