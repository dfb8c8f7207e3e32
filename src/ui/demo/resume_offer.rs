//! A run that did not finish — the page was reloaded or closed, the tab crashed, the GPU was lost — and is saved
//! in the browser's storage: what it was, and the choice to carry it on from its saved step or to forget it.

use leptos::prelude::*;

use super::live::LiveDemo;
use super::numbers::format_count;

#[component]
pub fn ResumeOffer(demo: LiveDemo) -> impl IntoView {
    let state = demo.state;
    let offer = Memo::new(move |_| state.with(|s| s.interrupted.clone().filter(|_| !s.busy())));
    let title_id = demo.id("resume-title");
    view! {
        {move || offer.get().map(|run| view! {
            <section class="demo-resume" aria-labelledby=title_id.clone()>
                <p id=title_id.clone()><strong>"A run was interrupted"</strong></p>
                <p>
                    {format!(
                        "A run on {} stopped before its end (a reload, a closed tab, or a lost GPU). It is saved in \
                         this browser at step {} of {}: resume it to carry on exactly where it was, on the device \
                         chosen above.",
                        run.dataset_name,
                        format_count(run.step()),
                        format_count(run.settings.steps),
                    )}
                </p>
                <p>
                    <button
                        type="button"
                        disabled=move || !state.with(|s| s.ready())
                        on:click=move |_| demo.resume_interrupted()
                    >
                        "Resume the run"
                    </button>
                    " "
                    <button type="button" class="secondary" on:click=move |_| demo.discard_interrupted()>
                        "Discard it"
                    </button>
                </p>
            </section>
        })}
    }
}
