pub fn x(){}
pub mod diff;
pub mod read;

pub use diff::{DiffOptions, DiffReport, diff_paths, render_text};
