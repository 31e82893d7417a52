//! Application core: State, Action, Effect and the pure reducer shared by the CLI and the TUI.
pub mod action;
pub mod alarms;
pub mod command;
pub mod effect;
pub mod hosting;
pub mod lifecycle;
pub mod reducer;
pub mod state;

pub use action::Action;
pub use effect::Effect;
pub use reducer::update;
pub use state::State;
