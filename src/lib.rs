//! cpsim
