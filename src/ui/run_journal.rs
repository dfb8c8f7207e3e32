//! The runs a page keeps in the browser's storage: the playground's, and the capstone's, which the completion page
//! recaps. A page restores its journal's runs into its demo's state and keeps the finished ones whenever they
//! change; a storage the browser refuses is said once, and the runs stay in memory.

use leptos::prelude::*;

use super::demo::LiveDemo;
use super::run_state::SavedRun;

/// Where a page's runs are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Journal {
    Playground,
    Capstone,
}

impl Journal {
    pub const ALL: [Journal; 2] = [Journal::Capstone, Journal::Playground];

    fn storage_key(self) -> &'static str {
        match self {
            Journal::Playground => "tinytune.playground.runs",
            Journal::Capstone => "tinytune.capstone.runs",
        }
    }

    /// For the completion page's table.
    pub fn title(self) -> &'static str {
        match self {
            Journal::Playground => "Playground",
            Journal::Capstone => "Capstone",
        }
    }

    /// The runs kept, none when there are none or the storage cannot be read.
    pub fn load(self) -> Vec<SavedRun> {
        let json = local_storage().and_then(|storage| storage.get_item(self.storage_key()).ok().flatten());
        json.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default()
    }

    /// `Err` when the browser refuses (storage full, blocked, or private mode).
    fn store(self, runs: &[SavedRun]) -> Result<(), ()> {
        let json = serde_json::to_string(runs).map_err(drop)?;
        local_storage().ok_or(())?.set_item(self.storage_key(), &json).map_err(drop)
    }

    /// Restores the kept runs into `demo`'s state and keeps its finished runs from now on; the signal holds what
    /// to tell the learner when the browser refuses to keep them.
    pub fn keep(self, demo: LiveDemo) -> ReadSignal<Option<String>> {
        let state = demo.state;
        for saved in self.load() {
            let id = demo.trainer.next_run_id();
            state.update(|s| s.restore(id, saved));
        }
        let problem = RwSignal::new(None::<String>);
        let saved = Memo::new(move |_| state.with(|s| s.saved_runs()));
        Effect::new(move |_| {
            let refused = self.store(&saved.get()).err().map(|_| {
                "Your runs could not be saved in this browser (its storage is full or blocked): they stay until you \
                 close this tab."
                    .to_string()
            });
            problem.set(refused);
        });
        problem.read_only()
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}
