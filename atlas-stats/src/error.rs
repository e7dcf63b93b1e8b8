//! The crate's one error type. Each variant is a reason the statistics cannot
//! be computed on the data given, worded so the atlas can show it as is.

/// Why a statistic could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A method needs more values than it was given (e.g. Jenks with 4 classes
    /// needs at least 4 values).
    #[error("{what} needs at least {need} values, got {got}")]
    TooFewValues {
        what: &'static str,
        need: usize,
        got: usize,
    },
    /// NaN or infinity in the input: a rollup bug upstream, never a valid count.
    #[error("the values contain NaN or infinity")]
    NotFinite,
    /// Every value is the same, so there is no spread to test or classify.
    #[error("all values are equal, so {what} is undefined")]
    Constant { what: &'static str },
    /// Fixed thresholds must rise strictly.
    #[error("the thresholds must be finite and strictly increasing")]
    BadThresholds,
    /// A weights list names a cell that does not exist, or has a negative or
    /// non-finite weight, or lists no neighbour at all.
    #[error("the weights of cell {cell} are invalid: {why}")]
    BadWeights { cell: usize, why: &'static str },
    /// The time steps of a space-time cube do not all have one value per cell.
    #[error("time step {step} has {got} cells, expected {expected}")]
    RaggedCube {
        step: usize,
        got: usize,
        expected: usize,
    },
    /// Emerging hot spots need enough time steps for the trend test to mean something.
    #[error("emerging hot spots need at least {need} time steps (weeks), the data has {got}")]
    TooFewTimeSteps { need: usize, got: usize },
    /// Emerging hot spots need enough events for Gi* to be more than noise.
    #[error("emerging hot spots need at least {need} events, the data has {got}")]
    TooFewEvents { need: u64, got: u64 },
    /// A significance level outside (0, 1).
    #[error("the significance level must lie strictly between 0 and 1, got {0}")]
    BadAlpha(f64),
}

/// Checks the input every statistic shares: at least `need` values, all
/// finite (NaN would silently poison sorts and sums).
pub(crate) fn check_values(values: &[f64], need: usize, what: &'static str) -> Result<(), Error> {
    if values.len() < need {
        return Err(Error::TooFewValues {
            what,
            need,
            got: values.len(),
        });
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(Error::NotFinite);
    }
    Ok(())
}
