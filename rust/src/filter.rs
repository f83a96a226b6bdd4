//! Software acceptance filters, as `BusABC.set_filters` documents them.
//!
//! A filter matches a frame when `can_id & can_mask == filter.can_id & can_mask`, and, when the
//! filter names an id type (`extended`), the frame's id type equals it. A frame passes a filter
//! set when it matches at least one filter; an empty set passes everything (python-can 3.3.2
//! manual, section 3.1.2, `set_filters`).
//!
//! A filter whose `can_id` has `CAN_INV_FILTER` (0x2000_0000, bit 29, never part of a CAN id)
//! set is inverted, as SocketCAN's `linux/can.h` defines it: it matches when
//! `can_id & can_mask != filter.can_id & can_mask` (the command-line form `<can_id>~<can_mask>`).
//!
//! Filters are compiled once per `set_filters` call: the id is pre-masked so that matching a
//! frame is one AND and one compare per filter.

/// The flag in a filter's `can_id` that inverts it (`linux/can.h`).
pub const CAN_INV_FILTER: u64 = 0x2000_0000;

/// One acceptance filter in its compiled form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Filter {
    /// `can_id & can_mask`, computed once.
    masked_id: u64,
    can_mask: u64,
    /// `Some(true)` matches only extended ids, `Some(false)` only standard ids.
    extended: Option<bool>,
    /// The id comparison is inverted (`CAN_INV_FILTER` was set in `can_id`).
    inverted: bool,
}

impl Filter {
    /// Builds a filter from the user's `can_id`, `can_mask` and optional `extended` key.
    pub fn new(can_id: u64, can_mask: u64, extended: Option<bool>) -> Self {
        let inverted = can_id & CAN_INV_FILTER != 0;
        let can_mask = if inverted {
            can_mask & !CAN_INV_FILTER
        } else {
            can_mask
        };
        Filter {
            masked_id: can_id & can_mask,
            can_mask,
            extended,
            inverted,
        }
    }

    /// Whether a frame with this id and id type passes this filter.
    #[inline]
    pub fn matches(&self, can_id: u64, is_extended: bool) -> bool {
        if let Some(ext) = self.extended {
            if ext != is_extended {
                return false;
            }
        }
        (can_id & self.can_mask == self.masked_id) != self.inverted
    }
}

/// A compiled set of filters: a frame passes when any filter matches, or when the set is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterSet {
    filters: Vec<Filter>,
}

impl FilterSet {
    pub fn new(filters: Vec<Filter>) -> Self {
        FilterSet { filters }
    }

    /// True when no filter is set, so that every frame passes.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    pub fn len(&self) -> usize {
        self.filters.len()
    }

    /// Whether a frame with this id and id type passes the set.
    #[inline]
    pub fn matches(&self, can_id: u64, is_extended: bool) -> bool {
        self.filters.is_empty() || self.filters.iter().any(|f| f.matches(can_id, is_extended))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_example_filter() {
        // The manual's example: {"can_id": 0x11, "can_mask": 0x21, "extended": False}.
        let set = FilterSet::new(vec![Filter::new(0x11, 0x21, Some(false))]);
        // 0x11 & 0x21 == 0x01, so every id with bit 0 set and bit 5 clear passes.
        assert!(set.matches(0x11, false));
        assert!(set.matches(0x01, false));
        assert!(set.matches(0x7DF & !0x20, false));
        assert!(!set.matches(0x21, false));
        assert!(!set.matches(0x10, false));
        // The id type is named, so an extended frame with a matching id does not pass.
        assert!(!set.matches(0x11, true));
    }

    #[test]
    fn extended_key_absent_matches_both_id_types() {
        let set = FilterSet::new(vec![Filter::new(0x123, 0x7FF, None)]);
        assert!(set.matches(0x123, false));
        assert!(set.matches(0x123, true));
        assert!(!set.matches(0x124, true));
    }

    #[test]
    fn empty_set_passes_everything() {
        let set = FilterSet::default();
        assert!(set.is_empty());
        assert!(set.matches(0, false));
        assert!(set.matches(0x1FFF_FFFF, true));
    }

    #[test]
    fn any_filter_of_several_is_enough() {
        let set = FilterSet::new(vec![
            Filter::new(0x100, 0x7FF, Some(false)),
            Filter::new(0x18DA_F110, 0x1FFF_FF00, Some(true)),
        ]);
        assert_eq!(set.len(), 2);
        assert!(set.matches(0x100, false));
        assert!(set.matches(0x18DA_F1AB, true));
        assert!(!set.matches(0x18DA_F2AB, true));
        assert!(!set.matches(0x101, false));
    }

    #[test]
    fn inverted_filter_matches_the_other_ids() {
        // `100~7FF`: every standard id but 0x100; the id type condition still applies
        let set = FilterSet::new(vec![Filter::new(
            0x100 | CAN_INV_FILTER,
            0x7FF,
            Some(false),
        )]);
        assert!(!set.matches(0x100, false));
        assert!(set.matches(0x101, false));
        assert!(set.matches(0x000, false));
        assert!(!set.matches(0x101, true));
        // without the id type: 0x1FFF_F100 & 0x7FF == 0x100, so it is excluded too
        let set = FilterSet::new(vec![Filter::new(0x100 | CAN_INV_FILTER, 0x7FF, None)]);
        assert!(!set.matches(0x1FFF_F100, true));
        assert!(set.matches(0x1FFF_F101, true));
    }

    #[test]
    fn zero_mask_matches_every_id() {
        let set = FilterSet::new(vec![Filter::new(0x7FF, 0, None)]);
        for id in [0u64, 1, 0x7FF, 0x1FFF_FFFF] {
            assert!(set.matches(id, id > 0x7FF));
        }
    }
}
