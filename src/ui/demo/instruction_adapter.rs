//! Base model against instruction-following (lesson “Base vs instruction-following”): the same request written by
//! the base model and by the base model with the instruction adapter the site ships (trained when the site was
//! built: `tinytune record --preset instructions --adapter-out`, on the instruction data set). For the data set's
//! held-out check prompts, each sample is judged as the task metric judges it: does it name both the animal and
//! the place asked for? Before the learner's first try, the pair recorded with the adapter is shown, labelled.

use leptos::prelude::*;

use super::backend::BackendLine;
use super::live::LiveDemo;
use super::loading::LoadingProgress;
use super::notices::Notices;
use super::reading::fetch_json;
use super::{INSTRUCTIONS, STORIES_MODEL_URL};
use crate::protocol::{RecordedRun, SampleSettings};
use crate::task::TaskCheck;
use crate::ui::run_state::Sample;

/// The adapter the site ships for this demo, beside the model; its recorded run is `recorded.json` in it.
pub const INSTRUCTION_ADAPTER_URL: &str = "models/stories260K/instruction-adapter/";

/// What the demo writes for: one of the check's prompts (by index), or the learner's own.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Request {
    Check(usize),
    Own,
}

/// The sample settings for a request: a check prompt's are the check's own (so the learner's pair for it repeats
/// the recorded one); the learner's prompt gets the site's defaults.
fn settings_for(request: Request, check: Option<&TaskCheck>, own: &str) -> Option<SampleSettings> {
    match request {
        Request::Check(index) => Some(check?.sample_settings(index)),
        Request::Own => Some(SampleSettings { prompt: own.trim().to_string(), ..SampleSettings::default() })
            .filter(|settings| !settings.prompt.is_empty()),
    }
}

/// Whether `text` (a prompt and its continuation) does what the check prompt at `index` asks, judged on the
/// continuation as the task metric does; `None` for the learner's own prompts, which have no check.
fn verdict(request: Request, check: Option<&TaskCheck>, text: &str) -> Option<bool> {
    let Request::Check(index) = request else { return None };
    let check = check?;
    let prompt = &check.samples.get(index)?.prompt;
    Some(check.passes(index, text.strip_prefix(prompt.as_str())?))
}

fn verdict_words(check: Option<&TaskCheck>, request: Request, passed: Option<bool>) -> Option<String> {
    let Request::Check(index) = request else { return None };
    let words: Vec<String> = check?.samples.get(index)?.must_contain.iter().map(|word| format!("the {word}")).collect();
    let words = words.join(" and ");
    passed.map(|passed| match passed {
        true => format!("✓ Names {words}, as asked."),
        false => format!("✗ Does not name both {words}."),
    })
}

/// A sample's text as its prompt and what was written after it (the whole text, if it does not start with the
/// prompt).
fn split_prompt(text: &str, prompt: &str) -> (String, String) {
    match text.strip_prefix(prompt) {
        Some(rest) if !prompt.is_empty() => (prompt.to_string(), rest.trim_start().to_string()),
        _ => (String::new(), text.to_string()),
    }
}

#[component]
pub fn InstructionAdapterDemo() -> impl IntoView {
    let instructions = &INSTRUCTIONS;
    let demo = LiveDemo::new("instruction-adapter", STORIES_MODEL_URL, &instructions.url());
    let state = demo.state;
    demo.load();
    demo.use_shipped_adapter(INSTRUCTION_ADAPTER_URL);
    let recorded = RwSignal::new(None::<RecordedRun>);
    fetch_json(format!("{INSTRUCTION_ADAPTER_URL}recorded.json"), recorded);

    // Read by the page, so the prompts and the recorded verdicts show before the model has loaded.
    let check = RwSignal::new(None::<TaskCheck>);
    fetch_json(TaskCheck::url_beside(&instructions.url()), check);
    let request = RwSignal::new(Request::Check(0));
    let own = RwSignal::new(String::new());
    // The two samples of the learner's latest try, and what they were for.
    let base = RwSignal::new(None::<u32>);
    let tuned = RwSignal::new(None::<u32>);
    let asked = RwSignal::new(None::<(Request, String)>);

    let adapter = move || state.with(|s| s.loaded_adapter());
    let writing = move || {
        state.with(|s| {
            [base.get(), tuned.get()].iter().flatten().any(|id| matches!(s.samples.get(id), Some(Sample::Writing(_))))
        })
    };
    let write = move || {
        let Some(run) = adapter() else { return };
        let current = request.get_untracked();
        let Some(settings) = check.with_untracked(|c| settings_for(current, c.as_ref(), &own.get_untracked())) else {
            return;
        };
        asked.set(Some((current, settings.prompt.clone())));
        base.set(Some(demo.generate(None, settings.clone(), 0.0)));
        tuned.set(Some(demo.generate(Some(run), settings, 1.0)));
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        write();
    };
    let text_of =
        move |slot: RwSignal<Option<u32>>| slot.get().and_then(|id| state.with(|s| s.samples.get(&id).cloned()));

    let (choice_id, own_id) = (demo.id("prompt-choice"), demo.id("own-prompt"));
    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: the same request, two models"</h3>
            <p>
                "The base model, and the same model with a small instruction adapter the site trained on requests \
                 for stories paired with stories that do as asked. It all runs in this tab."
            </p>
            <LoadingProgress demo />
            <BackendLine demo doing="Running" />
            <form class="demo-form" on:submit=submit novalidate>
                <div class="field">
                    <label for=choice_id.clone()>"Request"</label>
                    <select
                        id=choice_id.clone()
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            request.set(value.parse().map_or(Request::Own, Request::Check));
                        }
                    >
                        {move || check.get().map(|check| check.samples.iter().enumerate().map(|(index, sample)| view! {
                            <option value=index.to_string() selected=move || request.get() == Request::Check(index)>
                                {sample.prompt.clone()}
                            </option>
                        }).collect_view())}
                        <option value="own" selected=move || request.get() == Request::Own>"Your own request…"</option>
                    </select>
                </div>
                {move || (request.get() == Request::Own).then(|| view! {
                    <div class="field">
                        <label for=own_id.clone()>"Your request"</label>
                        <input id=own_id.clone() type="text" prop:value=move || own.get()
                            on:input=move |ev| own.set(event_target_value(&ev)) />
                    </div>
                })}
                <p class="demo-actions">
                    <button type="submit" disabled=move || adapter().is_none() || writing()>"Write with both"</button>
                    {move || (state.with(|s| s.model.is_some()) && adapter().is_none()).then(|| view! {
                        <span class="hint">" Loading the instruction adapter…"</span>
                    })}
                </p>
            </form>
            <Notices demo />
            {move || {
                let current = request.get();
                let check = check.get();
                match asked.get() {
                    // The learner's own pair, once they asked.
                    Some((asked_for, asked_prompt)) => {
                        let card = |title: &'static str, sample: Option<Sample>| {
                            let (prompt, text, passed) = match &sample {
                                Some(Sample::Written(text)) => {
                                    let (prompt, continuation) = split_prompt(text, &asked_prompt);
                                    (prompt, continuation, verdict(asked_for, check.as_ref(), text))
                                }
                                Some(Sample::Writing(so_far)) => {
                                    let (prompt, continuation) = split_prompt(so_far, &asked_prompt);
                                    (prompt, Sample::writing_label(&continuation), None)
                                }
                                _ => (String::new(), "Nothing written: see the problem above.".to_string(), None),
                            };
                            let verdict = verdict_words(check.as_ref(), asked_for, passed);
                            view! { <PairCard title prompt text verdict /> }
                        };
                        view! {
                            // Busy while either is written, so a screen reader reads each once, whole.
                            <div class="demo-sample-grid" aria-live="polite" aria-busy=move || writing().then_some("true")>
                                {card("Base model", text_of(base))}
                                {card("With the instruction adapter", text_of(tuned))}
                            </div>
                        }.into_any()
                    }
                    // Until then, the recorded pair for the chosen check prompt.
                    None => recorded.get().and_then(|recorded| {
                        let Request::Check(index) = current else { return None };
                        let (base, tuned) = (recorded.base_checked.get(index)?, recorded.tuned_checked.get(index)?);
                        let words = |passed| verdict_words(check.as_ref(), current, Some(passed));
                        let score = recorded.task.as_ref().map(|task| format!(
                            " Over all {} requests, {} samples with the adapter name both things asked for; {} without.",
                            task.total, task.passed, task.base_passed,
                        ));
                        Some(view! {
                            <p class="demo-recorded">
                                <strong>"Recorded"</strong>
                                " when this site was built, with the adapter the site ships. Press “Write with both” \
                                 to write your own."
                                {score}
                            </p>
                            <div class="demo-sample-grid">
                                <PairCard
                                    title="Base model"
                                    prompt=base.prompt.clone()
                                    text=base.text.trim_start().to_string()
                                    verdict=words(base.passed)
                                />
                                <PairCard
                                    title="With the instruction adapter"
                                    prompt=tuned.prompt.clone()
                                    text=tuned.text.trim_start().to_string()
                                    verdict=words(tuned.passed)
                                />
                            </div>
                        }.into_any())
                    }).unwrap_or_else(|| ().into_any()),
                }
            }}
        </section>
    }
}

/// A sample as the request (marked) and what the model wrote after it.
#[component]
fn PairCard(title: &'static str, prompt: String, text: String, verdict: Option<String>) -> impl IntoView {
    view! {
        <div class="demo-sample">
            <h4>{title}</h4>
            <p class="demo-sample-text">
                {(!prompt.is_empty()).then(|| view! { <span class="demo-prompt">{prompt}</span>" " })}
                <span class="demo-continuation">{text}</span>
            </p>
            {verdict.map(|verdict| view! { <p class="demo-verdict">{verdict}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::CheckPrompt;

    fn check() -> TaskCheck {
        TaskCheck {
            name: "Follows the instruction".into(),
            description: "Names both.".into(),
            max_new_tokens: None,
            judge_first_sentence: false,
            kinds: Vec::new(),
            samples: vec![CheckPrompt {
                prompt: "Write a story about a fox on the farm.".into(),
                must_contain: vec!["fox".into(), "farm".into()],
                kind: None,
            }],
            shape: None,
        }
    }

    #[test]
    fn a_sample_is_split_after_its_prompt() {
        let prompt = "Write a story about a fox on the farm.";
        let split = split_prompt(&format!("{prompt} Once"), prompt);
        assert_eq!(split, (prompt.to_string(), "Once".to_string()));
        assert_eq!(split_prompt("Something else", prompt), (String::new(), "Something else".to_string()));
    }

    #[test]
    fn a_check_prompt_is_judged_on_its_continuation_only() {
        let check = check();
        let request = Request::Check(0);
        let prompt = "Write a story about a fox on the farm.";
        // The prompt names both: only the continuation counts, as in the task metric.
        assert_eq!(verdict(request, Some(&check), &format!("{prompt} Once upon a time, a cat sat.")), Some(false));
        assert_eq!(verdict(request, Some(&check), &format!("{prompt} A fox lived on a farm.")), Some(true));
        assert_eq!(verdict(Request::Own, Some(&check), "A fox on a farm."), None, "the learner's own has no check");
        let settings = settings_for(request, Some(&check), "").unwrap();
        assert_eq!(settings, check.sample_settings(0), "the check's own settings, so the recorded pair repeats");
        assert_eq!(settings_for(Request::Own, Some(&check), "  "), None, "an empty request writes nothing");
    }
}
