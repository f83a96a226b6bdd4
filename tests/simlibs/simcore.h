/*
 * simcore: an in-process CAN "wire" that the simulated vendor libraries under tests/simlibs/
 * are built on. Each simulated library (Kvaser CANlib, PCAN-Basic, Vector XL, ...) exports its
 * vendor's C functions with the vendor's semantics (handles, status codes, units) and keeps the
 * frames here, so every backend is tested against the same bus behaviour:
 *
 *   - channels 0 .. sim_channel_count()-1 (SIMCAN_CHANNELS in the environment, default 4);
 *   - a port is one open handle on a channel with its own bounded receive queue; a frame sent
 *     on a port reaches every other on-bus port of that channel (and the sender itself when its
 *     echo is on, marked SIM_ECHO), in order, with one timestamp;
 *   - a full queue drops the new frame and sets the port's overrun flag;
 *   - an acceptance callback per port stands for the hardware filter: rejected frames never
 *     take queue space;
 *   - each port has a file descriptor that is readable exactly while its queue is non-empty
 *     (what PCAN's receive event and similar handles are built from);
 *   - a channel has a bus state and error counters that tests set through the exported
 *     simctl_* functions; sends on a bus-off channel fail until the vendor layer resets it.
 *
 * Everything is guarded by one mutex; sim_port_recv waits on a condition variable, so a caller
 * blocked in it (through ctypes, which drops the GIL) costs no CPU.
 */
#ifndef SIMCORE_H
#define SIMCORE_H

#include <stdint.h>

#define SIM_EXT 0x01u   /* 29-bit identifier */
#define SIM_RTR 0x02u   /* remote frame */
#define SIM_ERR 0x04u   /* error frame */
#define SIM_FD 0x08u    /* CAN FD frame */
#define SIM_BRS 0x10u   /* CAN FD bitrate switch */
#define SIM_ESI 0x20u   /* CAN FD error state indicator */
#define SIM_ECHO 0x40u  /* the sender's own frame, handed back to it */

#define SIM_ACTIVE 0
#define SIM_WARNING 1
#define SIM_PASSIVE 2
#define SIM_BUSOFF 3

#define SIM_OK 0
#define SIM_EBADPORT -1   /* no such open port */
#define SIM_EBADCHAN -2   /* no such channel */
#define SIM_ENOPORTS -3   /* too many open ports */
#define SIM_EBUSOFF -4    /* the channel is bus-off */
#define SIM_EOFFBUS -5    /* the port is not on bus */
#define SIM_EARG -6       /* bad argument (length, pointer) */

typedef struct sim_frame {
    uint32_t id;
    uint32_t flags;
    uint8_t len;
    uint8_t data[64];
    uint64_t time_us; /* sim clock: microseconds since the library was loaded */
} sim_frame;

typedef int (*sim_accept_fn)(const sim_frame *frame, void *ctx);

/* Channels and ports. */
int sim_channel_count(void);
int sim_port_open(int channel, int queue_capacity); /* port >= 0, or SIM_E* */
int sim_port_close(int port);
int sim_port_channel(int port);
int sim_port_set_on_bus(int port, int on);
int sim_port_set_echo(int port, int on);
int sim_port_set_accept(int port, sim_accept_fn accept, void *ctx);
int sim_port_send(int port, const sim_frame *frame);
/* 1: a frame was taken into *frame; 0: none within timeout_ms (negative: wait for ever);
 * SIM_E* on error. A closed port wakes its waiters with SIM_EBADPORT. */
int sim_port_recv(int port, sim_frame *frame, int timeout_ms);
int sim_port_pending(int port);
int sim_port_overrun(int port, int clear); /* 1 if frames were dropped since the last clear */
int sim_port_fd(int port);                  /* readable while frames are queued */
int sim_port_clear(int port);               /* drop every queued frame */

/* Bus state of a channel. */
int sim_channel_state(int channel, int *state, int *tx_errors, int *rx_errors);
int sim_channel_reset(int channel); /* back to error-active, counters 0 */
uint64_t sim_now_us(void);

/* Test control, exported for the tests to call through ctypes. */
int simctl_set_state(int channel, int state, int tx_errors, int rx_errors);
int simctl_inject_error(int channel, uint32_t error_class, const uint8_t *data, int len);
int simctl_inject_frame(int channel, uint32_t id, uint32_t flags, const uint8_t *data, int len);
int simctl_open_ports(int channel); /* how many ports are open on a channel (leak checks) */
void simctl_reset(void);           /* close everything, all channels error-active */

#endif
