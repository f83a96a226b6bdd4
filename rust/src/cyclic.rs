//! The timer loop behind software cyclic sending (`BusABC.send_periodic`, manual section 3.6).
//!
//! One [`TimerLoop`] serves any number of cyclic tasks from a single thread. The thread is not
//! spawned here: whoever owns the loop starts one (the Python binding starts a `threading.Thread`
//! so that it shows in `threading.enumerate()` and can be joined) and calls [`TimerLoop::run`]
//! in it. `run` returns once no task is left, so an idle loop costs no thread.
//!
//! Timing rules:
//! - Absolute deadlines. Slot `k` of a task is due at `start + k * period`; how long a send
//!   takes or how late the thread woke never shifts later slots, so the period does not drift.
//! - A loop that fell behind (the machine or the GIL held it up) catches up: the slots it missed
//!   are sent at once, one after the other, so that the number of frames stays `duration /
//!   period` and the mean period exact. Only when it is more than [`Config::max_catch_up`]
//!   (250 ms by default, longer than a loaded machine and a busy Python thread hold the loop
//!   up, so such stalls lose no frame) behind does it skip to the most recent due slot and
//!   count the skipped ones, as the kernel's broadcast manager does with timer overruns
//!   (`hrtimer_forward`), rather than flood the bus with a long burst of stale frames.
//! - Precise sleep: the thread blocks on a condition variable until shortly before the deadline
//!   and spins for the rest. The spin window adapts to how late the operating system actually
//!   wakes the thread (the 90th percentile of recent wake-ups), bounded by [`Config::max_spin`]
//!   (1 ms by default) and by a quarter of the period, so that even a 1 ms period costs little
//!   CPU while hitting its deadline.
//!   On Linux the loop thread's timer slack is lowered to 1 ns (`prctl(PR_SET_TIMERSLACK)`, see
//!   prctl(2)), which shortens those late wake-ups. A thread preempted while spinning (the
//!   machine is short of CPU) stops spinning for a while.
//! - Sends that fall due together are made together: the loop calls its session callback once
//!   and [`Due::send_all`] sends every due slot, so whatever a send needs (the Python binding:
//!   the GIL) is acquired once per batch, not once per frame.
//! - Stopping is prompt and bounded: [`TimerLoop::remove`] wakes the loop at once, makes sure no
//!   send of the task starts after it returns, waits up to a timeout for a send already under
//!   way, and then leaves it to finish on its own; it tells the caller which loop thread is now
//!   exiting so it can be joined.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

/// Identifies one task of a loop; never reused by that loop.
pub type TaskId = u64;

/// Identifies one run of the loop thread; [`TimerLoop::run`] is called with it.
pub type Generation = u64;

/// What the send callback asks the loop to do with its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Keep sending.
    Continue,
    /// Stop this task (for instance because sending failed).
    Stop,
}

/// Why a task is no longer scheduled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Its duration ran out.
    Expired,
    /// The send callback returned [`Control::Stop`].
    Stopped,
}

/// Invalid task parameters.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CyclicError {
    #[error("period must be a finite number of seconds > 0 and below 2**64 ns, got {0}")]
    Period(f64),
    #[error("duration must be a finite number of seconds >= 0, got {0}")]
    Duration(f64),
    #[error("max_spin must be a finite number of seconds >= 0, got {0}")]
    MaxSpin(f64),
    #[error("max_catch_up must be a finite number of seconds >= 0, got {0}")]
    MaxCatchUp(f64),
}

/// Counters of one task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskStats {
    /// Times the send callback was called.
    pub sent: u64,
    /// Slots skipped because the loop was more than one period late.
    pub skipped: u64,
}

/// The state of a task as [`TimerLoop::status`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Scheduled.
    Active(TaskStats),
    /// No longer scheduled, but not yet removed.
    Finished(Finish, TaskStats),
}

/// Tuning of a loop.
#[derive(Debug, Clone, Copy)]
pub struct Config {
    /// Upper bound of the spin window before each deadline.
    pub max_spin: Duration,
    /// Lower bound of the spin window (covers the time from waking to sending).
    pub min_spin: Duration,
    /// How far behind schedule the loop still sends every missed slot; further behind, it skips
    /// to the most recent due slot.
    pub max_catch_up: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_spin: Duration::from_millis(1),
            min_spin: Duration::from_micros(50),
            max_catch_up: Duration::from_millis(250),
        }
    }
}

impl Config {
    /// A configuration whose spin window is at most `max_spin` seconds.
    pub fn with_max_spin(max_spin: f64) -> Result<Self, CyclicError> {
        let max_spin =
            Duration::try_from_secs_f64(max_spin).map_err(|_| CyclicError::MaxSpin(max_spin))?;
        let defaults = Config::default();
        Ok(Config {
            max_spin,
            min_spin: defaults.min_spin.min(max_spin),
            ..defaults
        })
    }

    /// The same configuration, catching up at most `max_catch_up` seconds of missed slots.
    pub fn catching_up(self, max_catch_up: f64) -> Result<Self, CyclicError> {
        let max_catch_up = Duration::try_from_secs_f64(max_catch_up)
            .map_err(|_| CyclicError::MaxCatchUp(max_catch_up))?;
        Ok(Config {
            max_catch_up,
            ..self
        })
    }
}

/// Converts a period in seconds into whole nanoseconds (at least 1).
pub fn period_from_secs(period: f64) -> Result<u64, CyclicError> {
    if !(period.is_finite() && period > 0.0) {
        return Err(CyclicError::Period(period));
    }
    let nanos = Duration::try_from_secs_f64(period)
        .map_err(|_| CyclicError::Period(period))?
        .as_nanos();
    u64::try_from(nanos.max(1)).map_err(|_| CyclicError::Period(period))
}

/// Converts an optional duration in seconds.
pub fn duration_from_secs(duration: Option<f64>) -> Result<Option<Duration>, CyclicError> {
    duration
        .map(|d| Duration::try_from_secs_f64(d).map_err(|_| CyclicError::Duration(d)))
        .transpose()
}

struct Task<P> {
    id: TaskId,
    payload: P,
    period_ns: u64,
    start: Instant,
    /// The first slot not to send (`duration / period`, rounded up), if the task is limited.
    end_slot: Option<u64>,
    /// The slot that is sent next.
    slot: u64,
    /// When it is due (`None`: beyond what an `Instant` can hold, never).
    due: Option<Instant>,
    stats: TaskStats,
    /// Being removed: not sent again, kept only until a send under way has returned.
    cancelled: bool,
}

impl<P> Task<P> {
    fn slot_time(&self, slot: u64) -> Option<Instant> {
        let offset = u128::from(self.period_ns) * u128::from(slot);
        let offset = Duration::from_nanos(u64::try_from(offset).ok()?);
        self.start.checked_add(offset)
    }

    fn is_over(&self) -> bool {
        self.due.is_none() || self.end_slot.is_some_and(|end| self.slot >= end)
    }

    /// Moves on to the slot after the one just sent. If that one is more than `max_catch_up`
    /// overdue, jumps to the most recent due slot and counts the ones skipped.
    fn advance(&mut self, now: Instant, max_catch_up: Duration) {
        self.slot = self.slot.saturating_add(1);
        if let Some(due) = self.slot_time(self.slot) {
            if now.saturating_duration_since(due) > max_catch_up {
                let behind = now.saturating_duration_since(self.start).as_nanos();
                let current =
                    u64::try_from(behind / u128::from(self.period_ns)).unwrap_or(u64::MAX);
                let current = self.end_slot.map_or(current, |end| current.min(end));
                if current > self.slot {
                    self.stats.skipped += current - self.slot;
                    self.slot = current;
                }
            }
        }
        self.due = self.slot_time(self.slot);
    }
}

/// What the send callback is told about the send it performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fire {
    /// The task.
    pub id: TaskId,
    /// How many sends of the task came before this one (to pick a message of a sequence).
    pub sent: u64,
    /// The slot being sent: it was due at `start + slot * period`.
    pub slot: u64,
    /// When it was due.
    pub due: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runner {
    /// No thread runs the loop (any earlier one has been told to exit).
    Idle,
    /// Thread `generation` runs (or is about to run) the loop.
    Running(Generation),
}

struct State<P> {
    tasks: Vec<Task<P>>,
    finished: Vec<(TaskId, Finish, TaskStats)>,
    next_id: TaskId,
    runner: Runner,
    last_generation: Generation,
    /// Sends under way: which task, on which thread.
    firing: Vec<(TaskId, ThreadId)>,
}

/// Result of [`TimerLoop::remove`].
#[derive(Debug)]
pub struct Removed<P> {
    /// The payload of the task, if it was still known.
    pub payload: Option<P>,
    /// Its final counters.
    pub stats: TaskStats,
    /// The loop thread that was told to exit because no task is left; join it.
    pub exiting: Option<Generation>,
    /// A send of the task was still under way when the wait ran out; it finishes on its own
    /// (and the loop thread running it exits afterwards if it was told to).
    pub detached: bool,
}

/// Result of [`TimerLoop::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Added {
    pub id: TaskId,
    /// No thread runs the loop: start one that calls [`TimerLoop::run`] with this generation.
    pub start_runner: Option<Generation>,
}

/// The spin window before enough wake-ups have been seen: a typical wake-up lateness of a Linux
/// machine with the timer slack lowered is 20-60 us (measured here), so this covers it.
const INITIAL_WINDOW: Duration = Duration::from_micros(200);
/// Wake-ups remembered, and how many are needed before the window follows them.
const SAMPLES: usize = 256;
const MIN_SAMPLES: usize = 16;
/// The window covers this quantile of the remembered lateness, plus a margin.
const QUANTILE: f64 = 0.9;
const MARGIN: Duration = Duration::from_micros(20);
/// A gap this long between two looks at the clock while spinning means the thread was
/// preempted (a look takes well under a microsecond).
const PREEMPTED: Duration = Duration::from_micros(100);
/// Sleeps without spinning after a preemption: at first, and at most when it keeps happening.
const BACKOFF_MIN: u32 = 256;
const BACKOFF_MAX: u32 = 16_384;

/// Learns how late the operating system wakes the thread, to size the spin window: the window
/// covers the 90th percentile of the last 256 wake-ups' lateness (plus 20 us), within
/// [`Config::min_spin`, `Config::max_spin`].
///
/// Spinning a whole millisecond before every deadline would keep the loop thread busy all the
/// time at short periods, and a busy thread is the first the scheduler preempts when the
/// machine is loaded, which costs far more precision than it buys (measured: on a loaded
/// 2-core VM a loop spinning up to 1 ms per 1 ms period was late by milliseconds at the 90th
/// percentile, the same loop spinning ~50 us per period by 2 us). The wake-up later than the
/// window (the scheduler ran something else) cannot be helped by spinning anyway.
struct Sleeper {
    samples: Vec<Duration>,
    next: usize,
    window: Duration,
    config: Config,
    /// Sleeps left without spinning, after the thread was preempted while spinning.
    backoff: u32,
    backoff_len: u32,
    /// Sleeps since the last backoff ended.
    since_backoff: u32,
}

impl Sleeper {
    fn new(config: Config) -> Self {
        Sleeper {
            samples: Vec::with_capacity(SAMPLES),
            next: 0,
            window: INITIAL_WINDOW.clamp(config.min_spin, config.max_spin),
            config,
            backoff: 0,
            backoff_len: 0,
            since_backoff: u32::MAX,
        }
    }

    fn window(&self) -> Duration {
        if self.backoff > 0 {
            Duration::ZERO
        } else {
            self.window
        }
    }

    /// The thread was preempted while spinning: the machine is short of CPU, and a thread that
    /// spins there gets descheduled for whole time slices of other programs, which is far worse
    /// than the lateness of a plain sleep. Sleep without spinning for a while (longer each time
    /// it happens again soon).
    fn preempted(&mut self) {
        self.backoff_len = if self.backoff > 0 || self.since_backoff < BACKOFF_MIN {
            (self.backoff_len * 2).min(BACKOFF_MAX)
        } else {
            BACKOFF_MIN
        };
        self.backoff = self.backoff_len;
        self.since_backoff = 0;
    }

    fn record(&mut self, late: Duration) {
        if self.backoff > 0 {
            self.backoff -= 1;
        } else {
            self.since_backoff = self.since_backoff.saturating_add(1);
        }
        if self.samples.len() < SAMPLES {
            self.samples.push(late);
        } else {
            self.samples[self.next] = late;
        }
        self.next = (self.next + 1) % SAMPLES;
        // Recomputed every 16 samples (a sort of 256 values: microseconds).
        if self.samples.len() >= MIN_SAMPLES && self.next % 16 == 0 {
            let mut sorted = self.samples.clone();
            sorted.sort_unstable();
            let rank = ((sorted.len() - 1) as f64 * QUANTILE).round() as usize;
            let quantile = sorted.get(rank).copied().unwrap_or(INITIAL_WINDOW);
            self.window = (quantile + MARGIN).clamp(self.config.min_spin, self.config.max_spin);
        }
    }
}

/// Spins until `deadline`.
/// Spins until `deadline`; returns the longest time between two looks at the clock, which is
/// long when the thread was preempted while spinning.
fn spin_until(deadline: Instant) -> Duration {
    let mut last = Instant::now();
    let mut longest = Duration::ZERO;
    while last < deadline {
        std::hint::spin_loop();
        let now = Instant::now();
        longest = longest.max(now - last);
        last = now;
    }
    longest
}

#[cfg(target_os = "linux")]
fn lower_timer_slack() {
    use std::ffi::{c_int, c_ulong};
    extern "C" {
        fn prctl(option: c_int, ...) -> c_int;
    }
    const PR_SET_TIMERSLACK: c_int = 29; // linux/prctl.h
                                         // SAFETY: prctl(PR_SET_TIMERSLACK, 1) only changes the calling thread's timer slack; the
                                         // argument is passed as the unsigned long the kernel reads. Failure is harmless (the
                                         // default slack stays) and is ignored.
    unsafe {
        prctl(PR_SET_TIMERSLACK, 1 as c_ulong);
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_timer_slack() {}

/// A set of cyclic tasks served by one thread. `P` is what the send callback needs per task
/// (in the Python binding: the messages and the send callable).
pub struct TimerLoop<P> {
    state: Mutex<State<P>>,
    changed: Condvar,
    config: Config,
}

impl<P: Clone> Default for TimerLoop<P> {
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl<P: Clone> TimerLoop<P> {
    pub fn new(config: Config) -> Self {
        TimerLoop {
            state: Mutex::new(State {
                tasks: Vec::new(),
                finished: Vec::new(),
                next_id: 1,
                runner: Runner::Idle,
                last_generation: 0,
                firing: Vec::new(),
            }),
            changed: Condvar::new(),
            config,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<P>> {
        // A panic while holding the lock cannot leave the state inconsistent in a way that
        // matters here (every update is a single assignment or push), so poisoning is ignored.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Schedules a task whose first slot is due now, then every `period_ns` nanoseconds;
    /// slots due `duration` or later after the start are not sent.
    pub fn add(&self, payload: P, period_ns: u64, duration: Option<Duration>) -> Added {
        let start = Instant::now();
        let mut st = self.lock();
        let id = st.next_id;
        st.next_id += 1;
        let mut task = Task {
            id,
            payload,
            period_ns: period_ns.max(1),
            start,
            end_slot: duration.map(|d| {
                let nanos = d.as_nanos().div_ceil(u128::from(period_ns.max(1)));
                u64::try_from(nanos).unwrap_or(u64::MAX)
            }),
            slot: 0,
            due: Some(start),
            stats: TaskStats::default(),
            cancelled: false,
        };
        task.due = task.slot_time(0);
        if task.is_over() {
            // A zero duration sends nothing.
            st.finished.push((id, Finish::Expired, task.stats));
            return Added {
                id,
                start_runner: None,
            };
        }
        st.tasks.push(task);
        let start_runner = match st.runner {
            Runner::Running(_) => None,
            Runner::Idle => {
                st.last_generation += 1;
                let generation = st.last_generation;
                st.runner = Runner::Running(generation);
                Some(generation)
            }
        };
        drop(st);
        self.changed.notify_all();
        Added { id, start_runner }
    }

    /// Unschedules task `id` (also forgets a finished one). No send of it starts after this
    /// returns. If a send of it is under way on another thread, waits up to `timeout` for it
    /// to return; a send still under way then (blocked in the bus, or in a callback that waits
    /// for something the caller holds) is left to finish on its own, and
    /// [`Removed::detached`] says so. Safe to call from the send callback.
    pub fn remove(&self, id: TaskId, timeout: Duration) -> Removed<P> {
        let me = thread::current().id();
        let deadline = Instant::now().checked_add(timeout);
        let mut st = self.lock();
        if let Some(task) = st.tasks.iter_mut().find(|t| t.id == id) {
            task.cancelled = true;
        }
        let mut detached = false;
        while st.firing.iter().any(|&(t, th)| t == id && th != me) {
            let now = Instant::now();
            let left = match deadline {
                Some(deadline) if now >= deadline => {
                    detached = true;
                    break;
                }
                Some(deadline) => deadline - now,
                None => Duration::from_secs(3600),
            };
            st = self
                .changed
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let mut removed = Removed {
            payload: None,
            stats: TaskStats::default(),
            exiting: None,
            detached,
        };
        if let Some(pos) = st.tasks.iter().position(|t| t.id == id) {
            let task = st.tasks.swap_remove(pos);
            removed.payload = Some(task.payload);
            removed.stats = task.stats;
        } else if let Some(pos) = st.finished.iter().position(|f| f.0 == id) {
            removed.stats = st.finished.swap_remove(pos).2;
        }
        if st.tasks.is_empty() {
            if let Runner::Running(generation) = st.runner {
                st.runner = Runner::Idle;
                removed.exiting = Some(generation);
            }
        }
        drop(st);
        self.changed.notify_all();
        removed
    }

    /// Unschedules every task, waiting up to `timeout` for sends under way on other threads,
    /// and returns the loop thread that now exits, if any (for a clean interpreter exit).
    pub fn clear(&self, timeout: Duration) -> Option<Generation> {
        let me = thread::current().id();
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        for task in st.tasks.iter_mut() {
            task.cancelled = true;
        }
        while st.firing.iter().any(|&(_, th)| th != me) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            st = self
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        st.tasks.clear();
        let exiting = match st.runner {
            Runner::Running(generation) => Some(generation),
            Runner::Idle => None,
        };
        st.runner = Runner::Idle;
        drop(st);
        self.changed.notify_all();
        exiting
    }

    /// The generation of the thread that currently runs the loop, if any. Any other loop
    /// thread still alive is exiting.
    pub fn running_generation(&self) -> Option<Generation> {
        match self.lock().runner {
            Runner::Running(generation) => Some(generation),
            Runner::Idle => None,
        }
    }

    /// A copy of the payload of a scheduled task.
    pub fn payload(&self, id: TaskId) -> Option<P> {
        let st = self.lock();
        st.tasks
            .iter()
            .find(|t| t.id == id && !t.cancelled)
            .map(|t| t.payload.clone())
    }

    /// Replaces the payload of a scheduled task and returns the old one; gives the new one
    /// back if the task is not scheduled.
    pub fn set_payload(&self, id: TaskId, payload: P) -> Result<P, P> {
        let mut st = self.lock();
        match st.tasks.iter_mut().find(|t| t.id == id && !t.cancelled) {
            Some(task) => Ok(std::mem::replace(&mut task.payload, payload)),
            None => Err(payload),
        }
    }

    /// Whether task `id` is scheduled, finished, or unknown (`None`: removed or never added).
    pub fn status(&self, id: TaskId) -> Option<Status> {
        let st = self.lock();
        if let Some(task) = st.tasks.iter().find(|t| t.id == id && !t.cancelled) {
            return Some(Status::Active(task.stats));
        }
        st.finished
            .iter()
            .find(|f| f.0 == id)
            .map(|&(_, why, stats)| Status::Finished(why, stats))
    }

    /// Number of scheduled tasks.
    pub fn len(&self) -> usize {
        self.lock().tasks.iter().filter(|t| !t.cancelled).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Serves the tasks until none is left or this thread is told to exit (see
    /// [`Removed::exiting`]).
    ///
    /// Whenever a slot falls due, the loop calls `session` once with a [`Due`], and `session`
    /// calls [`Due::send_all`] with the function that performs one send. `send_all` sends every
    /// slot that is due at that moment, and every one that falls due while it runs, before it
    /// returns. So whatever `session` must acquire to be able to send (the Python binding: the
    /// GIL, which a busy Python thread may hold for milliseconds) it acquires once for all the
    /// sends that fell due meanwhile, not once per send. Sends run without the loop's lock
    /// held, so they may call any method of the loop.
    pub fn run<S>(&self, generation: Generation, mut session: S)
    where
        S: FnMut(&mut Due<'_, P>),
    {
        lower_timer_slack();
        let mut sleeper = Sleeper::new(self.config);
        let mut st = self.lock();
        if st.runner == Runner::Running(generation) {
            // Tasks that have not sent yet start now: starting this thread took time, and
            // their first slots would otherwise all be overdue at once.
            let now = Instant::now();
            for task in st.tasks.iter_mut() {
                if task.stats.sent == 0 && task.slot == 0 && task.start < now {
                    task.start = now;
                    task.due = Some(now);
                }
            }
        }
        loop {
            if st.runner != Runner::Running(generation) {
                return;
            }
            if st.tasks.is_empty() {
                st.runner = Runner::Idle;
                drop(st);
                self.changed.notify_all();
                return;
            }
            let Some((due, _, index)) = st.next_due() else {
                // Only tasks being removed are left: wait for their removal.
                st = self
                    .changed
                    .wait(st)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            let now = Instant::now();
            if due > now {
                let remaining = due - now;
                // Never spin more than a quarter of the period: a thread that is busy most of
                // the time is the first the scheduler preempts when the machine is loaded.
                let period = Duration::from_nanos(st.tasks[index].period_ns / 4);
                let window = sleeper.window().min(period);
                if remaining > window {
                    let wake_at = due - window;
                    let (guard, result) = self
                        .changed
                        .wait_timeout(st, remaining - window)
                        .unwrap_or_else(PoisonError::into_inner);
                    st = guard;
                    if result.timed_out() {
                        sleeper.record(Instant::now().saturating_duration_since(wake_at));
                    }
                } else {
                    drop(st);
                    if spin_until(due) > PREEMPTED {
                        sleeper.preempted();
                    }
                    st = self.lock();
                }
                continue;
            }
            drop(st);
            let mut due = Due {
                lp: self,
                generation,
                me: thread::current().id(),
            };
            session(&mut due);
            st = self.lock();
        }
    }
}

impl<P> State<P> {
    /// The scheduled task due first (ties: the lowest id), as `(due, id, index)`.
    fn next_due(&self) -> Option<(Instant, TaskId, usize)> {
        self.tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| !t.cancelled)
            .filter_map(|(i, t)| t.due.map(|due| (due, t.id, i)))
            .min()
    }
}

/// The sends that are due, handed to the session of [`TimerLoop::run`].
pub struct Due<'a, P> {
    lp: &'a TimerLoop<P>,
    generation: Generation,
    me: ThreadId,
}

impl<P: Clone> Due<'_, P> {
    /// Calls `fire(info, payload)` for every slot due now, earliest first, looking again after
    /// each send, until none is due; returns how many sends it made. Just before each send it
    /// checks, under the loop's lock, that the task is still scheduled and that this thread
    /// still runs the loop, so nothing is sent of a task once [`TimerLoop::remove`] has
    /// returned for it.
    pub fn send_all<F>(&mut self, mut fire: F) -> usize
    where
        F: FnMut(Fire, &P) -> Control,
    {
        let lp = self.lp;
        let mut sent = 0;
        let mut st = lp.lock();
        loop {
            if st.runner != Runner::Running(self.generation) {
                return sent;
            }
            let Some((due, id, index)) = st.next_due() else {
                return sent;
            };
            if due > Instant::now() {
                return sent;
            }
            let task = &st.tasks[index];
            let payload = task.payload.clone();
            let info = Fire {
                id,
                sent: task.stats.sent,
                slot: task.slot,
                due,
            };
            st.firing.push((id, self.me));
            drop(st);
            let control = fire(info, &payload);
            drop(payload);
            sent += 1;
            st = lp.lock();
            if let Some(pos) = st.firing.iter().position(|&f| f == (id, self.me)) {
                st.firing.swap_remove(pos);
            }
            lp.changed.notify_all();
            let now = Instant::now();
            if let Some(pos) = st.tasks.iter().position(|t| t.id == id) {
                let task = &mut st.tasks[pos];
                task.stats.sent += 1;
                task.advance(now, lp.config.max_catch_up);
                let finish = if task.cancelled {
                    None
                } else if control == Control::Stop {
                    Some(Finish::Stopped)
                } else if task.is_over() {
                    Some(Finish::Expired)
                } else {
                    None
                };
                if let Some(why) = finish {
                    let task = st.tasks.swap_remove(pos);
                    st.finished.push((task.id, why, task.stats));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    type Log = Arc<Mutex<Vec<(Fire, Instant)>>>;

    const WAIT: Duration = Duration::from_secs(5);

    fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn spawn_runner<P: Clone + Send + Sync + 'static>(
        lp: &Arc<TimerLoop<P>>,
        generation: Generation,
        log: Log,
    ) -> thread::JoinHandle<()> {
        let lp = Arc::clone(lp);
        thread::spawn(move || {
            lp.run(generation, |due| {
                due.send_all(|info, _| {
                    locked(&log).push((info, Instant::now()));
                    Control::Continue
                });
            })
        })
    }

    #[test]
    fn period_validation() {
        assert_eq!(period_from_secs(0.001), Ok(1_000_000));
        assert!(period_from_secs(0.0).is_err());
        assert!(period_from_secs(-1.0).is_err());
        assert!(period_from_secs(f64::NAN).is_err());
        assert!(period_from_secs(f64::INFINITY).is_err());
        assert!(period_from_secs(1e12).is_err());
        assert_eq!(period_from_secs(1e-12), Ok(1));
        assert!(duration_from_secs(Some(-1.0)).is_err());
        assert_eq!(duration_from_secs(None), Ok(None));
        assert!(Config::with_max_spin(-0.1).is_err());
    }

    #[test]
    fn deadlines_are_absolute_and_sends_never_early() {
        let lp: Arc<TimerLoop<()>> = Arc::new(TimerLoop::default());
        let log: Log = Arc::default();
        let period = Duration::from_millis(2);
        let added = lp.add((), 2_000_000, Some(Duration::from_millis(100)));
        let generation = added.start_runner.expect("first task starts a runner"); // ok: test
        spawn_runner(&lp, generation, Arc::clone(&log))
            .join()
            .expect("runner ends when the duration is over"); // ok: test
        let Some(Status::Finished(Finish::Expired, stats)) = lp.status(added.id) else {
            panic!("the task should have expired"); // ok: test
        };
        let log = locked(&log);
        // 100 ms / 2 ms: slots 0..50 are each sent or skipped; the one at 100 ms is the end.
        assert_eq!(stats.sent as usize, log.len());
        assert_eq!(stats.sent + stats.skipped, 50);
        let (first, _) = log[0];
        assert_eq!(first.slot, 0);
        for (i, &(info, at)) in log.iter().enumerate() {
            assert_eq!(info.sent as usize, i);
            assert!(at >= info.due, "slot {} sent early", info.slot);
            // The schedule is start + slot * period exactly: nothing accumulates.
            assert_eq!(info.due - first.due, period * info.slot as u32);
        }
        drop(log);
        assert!(lp.is_empty());
    }

    #[test]
    fn on_an_idle_machine_sends_are_on_time() {
        let lp: Arc<TimerLoop<()>> = Arc::new(TimerLoop::default());
        let log: Log = Arc::default();
        let added = lp.add((), 1_000_000, Some(Duration::from_millis(200)));
        let generation = added.start_runner.expect("runner"); // ok: test
        spawn_runner(&lp, generation, Arc::clone(&log))
            .join()
            .expect("runner"); // ok: test
        let mut late: Vec<Duration> = locked(&log).iter().map(|(f, at)| *at - f.due).collect();
        late.sort();
        // The median lateness is far below a period even on a busy CI machine (it is a few
        // microseconds when idle); a loop that slept without spinning would be ~50-100 us late.
        assert!(
            late[late.len() / 2] < Duration::from_micros(500),
            "{late:?}"
        );
    }

    #[test]
    fn one_thread_serves_many_tasks_and_exits_when_idle() {
        let lp: Arc<TimerLoop<u32>> = Arc::new(TimerLoop::default());
        let log: Log = Arc::default();
        let a = lp.add(1, 5_000_000, None);
        let b = lp.add(2, 7_000_000, None);
        assert!(b.start_runner.is_none(), "second task reuses the runner");
        let generation = a.start_runner.expect("runner"); // ok: test
        let handle = spawn_runner(&lp, generation, Arc::clone(&log));
        thread::sleep(Duration::from_millis(60));
        let ra = lp.remove(a.id, WAIT);
        assert_eq!(ra.payload, Some(1));
        assert!(ra.exiting.is_none(), "b still runs");
        let rb = lp.remove(b.id, WAIT);
        assert_eq!(rb.exiting, Some(generation));
        handle.join().expect("runner exits when idle"); // ok: test
        let log = locked(&log);
        let count = |id| log.iter().filter(|e| e.0.id == id).count();
        assert!(count(a.id) >= 2, "a sent {}", count(a.id));
        assert!(count(b.id) >= 2, "b sent {}", count(b.id));
        assert_eq!(ra.stats.sent as usize, count(a.id));
        assert_eq!(rb.stats.sent as usize, count(b.id));
        // A new task after the loop went idle needs a new runner.
        let c = lp.add(3, 1_000_000, None);
        assert_eq!(c.start_runner, Some(generation + 1));
        assert_eq!(lp.running_generation(), Some(generation + 1));
        assert_eq!(lp.remove(c.id, WAIT).exiting, Some(generation + 1));
        assert_eq!(lp.running_generation(), None);
    }

    #[test]
    fn remove_waits_for_a_send_under_way_and_nothing_follows() {
        let lp: Arc<TimerLoop<()>> = Arc::new(TimerLoop::default());
        let started = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let added = lp.add((), 1_000_000, None);
        let generation = added.start_runner.expect("runner"); // ok: test
        let handle = {
            let lp = Arc::clone(&lp);
            let started = Arc::clone(&started);
            let finished = Arc::clone(&finished);
            thread::spawn(move || {
                lp.run(generation, |due| {
                    due.send_all(|_, _| {
                        started.fetch_add(1, Ordering::SeqCst);
                        thread::sleep(Duration::from_millis(20));
                        finished.fetch_add(1, Ordering::SeqCst);
                        Control::Continue
                    });
                })
            })
        };
        while started.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        let removed = lp.remove(added.id, WAIT);
        // The send that was under way completed before remove returned...
        let done = finished.load(Ordering::SeqCst);
        assert_eq!(done, started.load(Ordering::SeqCst));
        assert_eq!(removed.stats.sent as usize, done);
        handle.join().expect("runner"); // ok: test
                                        // ...and no other send started afterwards.
        assert_eq!(started.load(Ordering::SeqCst), done);
    }

    #[test]
    fn remove_gives_up_on_a_stuck_send_and_nothing_new_starts() {
        // The send blocks until the test releases it, as a send blocked on a full queue or a
        // callback waiting for a lock the remover holds would.
        let lp: Arc<TimerLoop<()>> = Arc::new(TimerLoop::default());
        let started = Arc::new(AtomicUsize::new(0));
        let release = Arc::new(AtomicUsize::new(0));
        let a = lp.add((), 1_000_000, None);
        let b = lp.add((), 1_000_000, None);
        let generation = a.start_runner.expect("runner"); // ok: test
        let handle = {
            let lp = Arc::clone(&lp);
            let started = Arc::clone(&started);
            let release = Arc::clone(&release);
            thread::spawn(move || {
                lp.run(generation, |due| {
                    due.send_all(|info, _| {
                        if info.id == a.id {
                            started.fetch_add(1, Ordering::SeqCst);
                            while release.load(Ordering::SeqCst) == 0 {
                                thread::sleep(Duration::from_millis(1));
                            }
                        }
                        Control::Continue
                    });
                })
            })
        };
        while started.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        let t0 = Instant::now();
        let removed = lp.remove(a.id, Duration::from_millis(50));
        let waited = t0.elapsed();
        assert!(removed.detached);
        assert!(waited >= Duration::from_millis(50), "{waited:?}");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
        assert_eq!(lp.status(a.id), None);
        // b is the last task: its removal tells the (stuck) thread to exit, without waiting.
        let rb = lp.remove(b.id, Duration::from_millis(50));
        assert!(!rb.detached);
        assert_eq!(rb.exiting, Some(generation));
        release.store(1, Ordering::SeqCst);
        handle.join().expect("the detached thread ends on its own"); // ok: test
        assert_eq!(
            started.load(Ordering::SeqCst),
            1,
            "a send of a started after remove"
        );
    }

    #[test]
    fn sends_that_fall_due_together_share_one_session() {
        // 50 tasks at 10 ms for 100 ms; every session first waits 4 ms (as the Python binding
        // waits for the GIL held by a busy thread). One send per session would manage ~25
        // sends in 100 ms; sends batched per session manage all 500.
        let lp: Arc<TimerLoop<()>> = Arc::new(TimerLoop::default());
        let ids: Vec<TaskId> = (0..50)
            .map(|_| lp.add((), 10_000_000, Some(Duration::from_millis(100))).id)
            .collect();
        let generation = lp.running_generation().expect("runner"); // ok: test
        let sessions = Arc::new(AtomicUsize::new(0));
        let lp2 = Arc::clone(&lp);
        let sessions2 = Arc::clone(&sessions);
        thread::spawn(move || {
            lp2.run(generation, |due| {
                sessions2.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(4));
                due.send_all(|_, _| Control::Continue);
            })
        })
        .join()
        .expect("runner"); // ok: test
        let mut sent = 0;
        for id in ids {
            let Some(Status::Finished(Finish::Expired, stats)) = lp.status(id) else {
                panic!("task {id} should have expired"); // ok: test
            };
            assert_eq!(stats.sent + stats.skipped, 10);
            sent += stats.sent;
        }
        assert_eq!(sent, 500);
        let sessions = sessions.load(Ordering::SeqCst);
        assert!(sessions <= 60, "{sessions} sessions for 500 sends");
    }

    #[test]
    fn callback_can_stop_its_task_and_remove_from_inside() {
        let lp: Arc<TimerLoop<()>> = Arc::new(TimerLoop::default());
        let a = lp.add((), 1_000_000, None);
        let b = lp.add((), 1_000_000, None);
        let generation = a.start_runner.expect("runner"); // ok: test
        let lp2 = Arc::clone(&lp);
        let (a_id, b_id) = (a.id, b.id);
        let handle = thread::spawn(move || {
            lp2.run(generation, |due| {
                due.send_all(|info, _| {
                    if info.id == a_id && info.sent == 2 {
                        return Control::Stop;
                    }
                    if info.id == b_id && info.sent == 4 {
                        // Removing from inside the callback must not deadlock.
                        let removed = lp2.remove(b_id, WAIT);
                        assert!(removed.payload.is_some());
                    }
                    Control::Continue
                });
            })
        });
        handle
            .join()
            .expect("runner exits once both tasks are gone"); // ok: test
        let status = lp.status(a.id);
        assert!(
            matches!(status, Some(Status::Finished(Finish::Stopped, s)) if s.sent == 3),
            "{status:?}"
        );
        assert_eq!(lp.status(b.id), None);
        assert!(lp.is_empty());
    }

    /// Runs a 1 ms task for 40 ms whose 4th send stalls the loop for 10 ms.
    fn run_with_stall(config: Config) -> (TaskStats, Vec<(Fire, Instant)>) {
        let lp: Arc<TimerLoop<()>> = Arc::new(TimerLoop::new(config));
        let log: Log = Arc::default();
        let added = lp.add((), 1_000_000, Some(Duration::from_millis(40)));
        let generation = added.start_runner.expect("runner"); // ok: test
        let lp2 = Arc::clone(&lp);
        let log2 = Arc::clone(&log);
        thread::spawn(move || {
            lp2.run(generation, |due| {
                due.send_all(|info, _| {
                    locked(&log2).push((info, Instant::now()));
                    if info.sent == 3 {
                        thread::sleep(Duration::from_millis(10)); // ten slots late
                    }
                    Control::Continue
                });
            })
        })
        .join()
        .expect("runner"); // ok: test
        let Some(Status::Finished(Finish::Expired, stats)) = lp.status(added.id) else {
            panic!("task should have expired"); // ok: test
        };
        let log = locked(&log).clone();
        (stats, log)
    }

    #[test]
    fn a_short_stall_is_caught_up() {
        let (stats, log) = run_with_stall(Config::default());
        // Every slot is sent: the ones missed during the stall right after it.
        assert_eq!(stats.sent + stats.skipped, 40);
        let slots: Vec<u64> = log.iter().map(|(f, _)| f.slot).collect();
        assert_eq!(slots.len() as u64, stats.sent);
        assert!(slots.windows(2).all(|w| w[1] > w[0]));
        if stats.skipped == 0 {
            assert_eq!(slots, (0..40).collect::<Vec<u64>>());
        }
        // Slot 4 and the next ones went out back to back after the stall.
        let burst = log[5].1 - log[4].1;
        assert!(burst < Duration::from_micros(500), "{burst:?}");
    }

    #[test]
    fn a_long_stall_skips_to_the_current_slot() {
        let config = Config::default().catching_up(0.002).expect("valid"); // ok: test
        let (stats, log) = run_with_stall(config);
        assert!(stats.skipped >= 7, "skipped {}", stats.skipped);
        assert_eq!(stats.sent + stats.skipped, 40);
        // After the stall the loop sends the most recent due slot once, then resumes the
        // schedule: the slots jump, they are not all sent in a burst.
        let (after, _) = log[4];
        assert!(after.slot >= 11, "resumed at slot {}", after.slot);
        assert!(log.windows(2).all(|w| w[1].0.slot > w[0].0.slot));
        assert!(Config::default().catching_up(-1.0).is_err());
    }

    #[test]
    fn payload_can_be_replaced_and_zero_duration_sends_nothing() {
        let lp: TimerLoop<u8> = TimerLoop::default();
        let a = lp.add(1, 1_000_000, Some(Duration::ZERO));
        assert!(a.start_runner.is_none());
        assert!(matches!(
            lp.status(a.id),
            Some(Status::Finished(Finish::Expired, _))
        ));
        let b = lp.add(1, 1_000_000, None);
        assert_eq!(lp.payload(b.id), Some(1));
        assert_eq!(lp.set_payload(b.id, 9), Ok(1));
        assert_eq!(lp.set_payload(999, 9), Err(9));
        let removed = lp.remove(b.id, WAIT);
        assert_eq!(removed.payload, Some(9));
        // The runner generation handed out was never started: remove says it is over.
        assert_eq!(removed.exiting, b.start_runner);
        // A stale runner returns at once.
        lp.run(removed.exiting.unwrap_or(0), |due| {
            due.send_all(|_, _| Control::Continue);
        });
    }

    #[test]
    fn tasks_start_when_the_loop_thread_does() {
        let lp: Arc<TimerLoop<()>> = Arc::new(TimerLoop::default());
        let log: Log = Arc::default();
        let added = lp.add((), 2_000_000, Some(Duration::from_millis(10)));
        let generation = added.start_runner.expect("runner"); // ok: test
        thread::sleep(Duration::from_millis(20)); // a slow thread start
        let started = Instant::now();
        spawn_runner(&lp, generation, Arc::clone(&log))
            .join()
            .expect("runner"); // ok: test
        let log = locked(&log);
        // Not a burst of the 5 slots that were "due" during the delay: all 5, on schedule.
        assert_eq!(log.len(), 5);
        assert!(log[0].0.due >= started);
        assert!(log[4].0.due - log[0].0.due == Duration::from_millis(8));
        assert!(log[4].1 - log[0].1 >= Duration::from_millis(7));
    }

    #[test]
    fn clear_stops_everything_at_once() {
        let lp: Arc<TimerLoop<()>> = Arc::new(TimerLoop::default());
        let log: Log = Arc::default();
        let a = lp.add((), 1_000_000, None);
        lp.add((), 3_000_000, None);
        let generation = a.start_runner.expect("runner"); // ok: test
        let handle = spawn_runner(&lp, generation, Arc::clone(&log));
        thread::sleep(Duration::from_millis(10));
        assert_eq!(lp.clear(Duration::from_secs(1)), Some(generation));
        handle.join().expect("runner exits"); // ok: test
        assert!(lp.is_empty());
        assert_eq!(lp.running_generation(), None);
        assert_eq!(lp.clear(Duration::ZERO), None);
    }

    #[test]
    fn end_slot_rounds_up() {
        let lp: TimerLoop<()> = TimerLoop::default();
        // 10 ms at 3 ms: slots at 0, 3, 6 and 9 ms.
        let a = lp.add((), 3_000_000, Some(Duration::from_millis(10)));
        let st = lp.lock();
        assert_eq!(
            st.tasks
                .iter()
                .find(|t| t.id == a.id)
                .and_then(|t| t.end_slot),
            Some(4)
        );
    }

    #[test]
    fn sleeper_adapts_within_bounds() {
        let mut s = Sleeper::new(Config::default());
        assert_eq!(s.window(), Duration::from_micros(200));
        // 2 % of very late wake-ups do not drag the window up; the rest decide it.
        for i in 0..SAMPLES {
            let late = if i % 64 == 0 {
                5_000
            } else {
                30 + (i % 7) as u64
            };
            s.record(Duration::from_micros(late));
        }
        assert_eq!(s.window(), Duration::from_micros(36) + MARGIN);
        // A machine that wakes us late more often gets a wider window, up to max_spin.
        for _ in 0..SAMPLES {
            s.record(Duration::from_millis(3));
        }
        assert_eq!(s.window(), Duration::from_millis(1));
        // Never below min_spin.
        for _ in 0..SAMPLES {
            s.record(Duration::ZERO);
        }
        assert_eq!(s.window(), Duration::from_micros(50));
        let tight = Sleeper::new(Config::with_max_spin(0.0).unwrap_or_default());
        assert_eq!(tight.window(), Duration::ZERO);
    }

    #[test]
    fn sleeper_stops_spinning_for_a_while_after_a_preemption() {
        let mut s = Sleeper::new(Config::default());
        s.preempted();
        for _ in 0..BACKOFF_MIN {
            assert_eq!(s.window(), Duration::ZERO);
            s.record(Duration::from_micros(30));
        }
        assert!(s.window() > Duration::ZERO);
        // Preempted again soon after: a longer backoff.
        s.record(Duration::from_micros(30));
        s.preempted();
        for _ in 0..2 * BACKOFF_MIN {
            assert_eq!(s.window(), Duration::ZERO);
            s.record(Duration::from_micros(30));
        }
        assert!(s.window() > Duration::ZERO);
        // Much later, a single preemption starts over with the short backoff.
        for _ in 0..BACKOFF_MIN {
            s.record(Duration::from_micros(30));
        }
        s.preempted();
        assert_eq!(s.backoff, BACKOFF_MIN);
    }
}
