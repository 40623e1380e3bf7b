//! `/_sim/faults`: read or replace the fault settings at run time, so a running `twilio-sim`
//! can be steered with `curl -u AC…:token -d '{"rate_429":0.5}' …/_sim/faults`. A `seed`
//! field reseeds the fault draws.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;

use crate::faults::Faults;
use crate::state::{lock, Shared};

#[derive(Deserialize)]
pub(crate) struct FaultsUpdate {
    #[serde(flatten)]
    faults: Faults,
    seed: Option<u64>,
}

pub(crate) async fn get_faults(State(shared): State<Arc<Shared>>) -> Json<Faults> {
    Json(lock(&shared.faults).faults.clone())
}

pub(crate) async fn set_faults(State(shared): State<Arc<Shared>>, Json(update): Json<FaultsUpdate>) -> Json<Faults> {
    let mut state = lock(&shared.faults);
    state.faults = update.faults;
    if let Some(seed) = update.seed {
        state.reseed(seed);
    }
    Json(state.faults.clone())
}
