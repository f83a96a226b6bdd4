//! `can._core.FilterSet`: the compiled software filters `BusABC.recv` applies.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use super::message;
use crate::filter::{Filter, FilterSet};

/// A compiled set of acceptance filters (see `BusABC.set_filters`).
#[pyclass(name = "FilterSet", module = "can._core", frozen)]
pub struct PyFilterSet {
    inner: FilterSet,
}

fn filter_value(f: &Bound<'_, PyDict>, key: &str, index: usize) -> PyResult<u64> {
    let value = f
        .get_item(key)?
        .ok_or_else(|| PyValueError::new_err(format!("filter #{index} has no {key:?} key: {f}")))?;
    value.extract::<u64>().map_err(|_| {
        PyValueError::new_err(format!(
            "filter #{index}: {key} must be a non-negative integer below 2**64, got {}",
            value
                .repr()
                .map(|r| r.to_string())
                .unwrap_or_else(|_| "?".to_owned())
        ))
    })
}

/// Compiles python-can filter dicts (`can_id`, `can_mask`, optional `extended`): the one
/// parser of filters, for buses and the log converter alike. `None` or an empty iterable
/// passes every frame.
pub fn parse_filters(filters: Option<&Bound<'_, PyAny>>) -> PyResult<FilterSet> {
    let mut compiled = Vec::new();
    if let Some(filters) = filters {
        if filters.is_instance_of::<PyDict>() || filters.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(
                "filters must be an iterable of dicts, not a single dict or string",
            ));
        }
        for (index, item) in filters.try_iter()?.enumerate() {
            let item = item?;
            let f = item.cast::<PyDict>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "filter #{index} must be a dict with can_id and can_mask, got {}",
                    item.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })?;
            let can_id = filter_value(f, "can_id", index)?;
            let can_mask = filter_value(f, "can_mask", index)?;
            let extended = match f.get_item("extended")? {
                Some(v) if !v.is_none() => Some(v.is_truthy()?),
                _ => None,
            };
            compiled.push(Filter::new(can_id, can_mask, extended));
        }
    }
    Ok(FilterSet::new(compiled))
}

#[pymethods]
impl PyFilterSet {
    /// Compiles `filters`, an iterable of dicts with `can_id`, `can_mask` and optional
    /// `extended`; `None` or an empty iterable passes every message.
    #[new]
    #[pyo3(signature = (filters=None))]
    fn new(filters: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        Ok(PyFilterSet {
            inner: parse_filters(filters)?,
        })
    }

    /// Whether `msg` passes at least one filter (always true for an empty set).
    fn matches(&self, msg: &Bound<'_, PyAny>) -> PyResult<bool> {
        if self.inner.is_empty() {
            return Ok(true);
        }
        let (id, ext) = message::id_and_type(msg)?;
        Ok(self.inner.matches(id, ext))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFilterSet>()
}
