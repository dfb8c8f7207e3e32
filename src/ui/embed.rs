//! Live demos for other sites' documentation: `/embed/<demo>` in an `<iframe>`, without the site's header and
//! footer: `first-lora`, whose query takes the playground's settings plus `controls=none|basic|all`, and lesson
//! demos shown as they are (`qlora-chat`). Every embed takes `theme=light|dark`; the
//! page posts its height to the parent (`{"type": "tinytune-embed-height", "height": …}`) whenever it changes,
//! so the frame can size itself, and links to the full site.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::demo::{
    run_losses, Controls, DatasetChoice, Demo, LiveDemo, LoadingProgress, RunControls, SettingProblems, StepChart,
    TaskResult, STORIES_MODEL_URL,
};
use super::{playground, site};
use crate::course::DemoKind;
use crate::protocol::TrainSettings;

/// A demo another site can embed: its name in the address, its title, and the model it trains (on any shipped
/// data set, `data=` in the address).
struct Embeddable {
    name: &'static str,
    title: &'static str,
    model_url: &'static str,
}

const EMBEDDABLE: [Embeddable; 1] = [Embeddable {
    name: "first-lora",
    title: "Fine-tune a tiny model with LoRA, in this page",
    model_url: STORIES_MODEL_URL,
}];

/// The message the parent page listens for.
pub const HEIGHT_MESSAGE: &str = "tinytune-embed-height";

/// The HTML another site pastes to embed the `first-lora` demo with `settings` on `dataset`, sized by the height
/// messages.
pub fn snippet(settings: &TrainSettings, dataset: &DatasetChoice) -> String {
    let embeddable = &EMBEDDABLE[0];
    let address =
        site::url(&format!("/embed/{}?{}&controls=basic", embeddable.name, playground::query(settings, dataset)));
    format!(
        "<iframe id=\"tinytune-{name}\" src=\"{src}\" title=\"{title}\" \
         style=\"width:100%;max-width:800px;border:0\" height=\"900\" loading=\"lazy\"></iframe>\n\
         <script>\n\
         addEventListener(\"message\", (event) => {{\n\
         \x20 const frame = document.getElementById(\"tinytune-{name}\");\n\
         \x20 if (event.source === frame.contentWindow && event.data?.type === \"{HEIGHT_MESSAGE}\") frame.height = event.data.height;\n\
         }});\n\
         </script>",
        name = embeddable.name,
        title = embeddable.title,
        src = address.replace('&', "&amp;"),
    )
}

/// The address of the page, without the site's header and footer: they are for the site itself.
pub fn is_embed(path: &str) -> bool {
    site::route(path).starts_with("/embed/")
}

/// Lesson demos another site can embed as they are (`/embed/<name>`, the theme query only).
const EMBEDDABLE_LESSON_DEMOS: [DemoKind; 2] = [DemoKind::QloraChat, DemoKind::PreferenceTuning];

#[component]
pub fn EmbedPage() -> impl IntoView {
    let params = use_params_map();
    let name = params.read_untracked().get("demo").unwrap_or_default();
    let lesson_demo = DemoKind::from_name(&name).filter(|kind| EMBEDDABLE_LESSON_DEMOS.contains(kind));
    match (EMBEDDABLE.iter().find(|e| e.name == name), lesson_demo) {
        (Some(embeddable), _) => view! { <EmbeddedDemo embeddable /> }.into_any(),
        (None, Some(kind)) => view! { <EmbeddedLessonDemo kind /> }.into_any(),
        (None, None) => {
            let known: Vec<&str> =
                EMBEDDABLE.iter().map(|e| e.name).chain(EMBEDDABLE_LESSON_DEMOS.iter().map(|k| k.name())).collect();
            view! {
                <p class="demo-alert" role="alert">
                    {format!("There is no demo “{name}” to embed. Embeddable demos: {}.", known.join(", "))}
                </p>
            }
            .into_any()
        }
    }
}

#[component]
fn EmbeddedDemo(embeddable: &'static Embeddable) -> impl IntoView {
    let query = use_location().search.get_untracked();
    let (settings, mut problems) = TrainSettings::from_query(&query);
    let (dataset, dataset_problem) = DatasetChoice::from_query(&query);
    problems.extend(dataset_problem);
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.trim_start_matches('?').as_bytes()).into_owned().collect();
    let value_of = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let controls = match value_of("controls") {
        None => Controls::Basic,
        Some(name) => Controls::from_name(&name).unwrap_or_else(|| {
            problems.push(crate::settings::SettingProblem {
                key: "controls",
                message: format!("`controls={name}`: controls is none, basic or all; using basic."),
            });
            Controls::Basic
        }),
    };
    if let Some(theme) = value_of("theme") {
        super::theme::apply(&theme);
    }
    let demo = LiveDemo::new(embeddable.name, embeddable.model_url, &dataset.url());
    let state = demo.state;
    demo.load();
    let full_site = site::url(&format!("/playground?{}", playground::query(&settings, dataset)));
    let latest_run = demo.latest_run();
    report_height();

    view! {
        <Title text=format!("{} · Tinytune", embeddable.title) />
        <section class="demo embed" aria-labelledby=demo.id("title")>
            <h1 class="embed-title" id=demo.id("title")>{embeddable.title}</h1>
            <SettingProblems problems />
            <LoadingProgress demo />
            <RunControls demo controls initial=Signal::stored(settings) />
            <StepChart
                title="Loss"
                demo
                series=Signal::derive(move || state.with(|s| run_losses(s.latest_run().map_or(&[][..], |run| &run.metrics))))
                total_steps=Signal::derive(move || state.with(|s| s.latest_run().map_or(0, |run| run.settings.steps)))
                caption="Losses at each step"
            />
            <TaskResult demo run=latest_run />
            <p class="embed-credit">
                <a href=full_site target="_blank" rel="noopener">"Open in Tinytune"</a>
                " — a course on fine-tuning that runs in your browser."
            </p>
        </section>
    }
}

#[component]
fn EmbeddedLessonDemo(kind: DemoKind) -> impl IntoView {
    let query = use_location().search.get_untracked();
    let theme = form_urlencoded::parse(query.trim_start_matches('?').as_bytes())
        .find(|(key, _)| key == "theme")
        .map(|(_, value)| value.into_owned());
    if let Some(theme) = theme {
        super::theme::apply(&theme);
    }
    report_height();
    view! {
        <div class="embed">
            <Demo kind />
            <p class="embed-credit">
                <a href=site::url("/") target="_blank" rel="noopener">"Open Tinytune"</a>
                " — a course on fine-tuning that runs in your browser."
            </p>
        </div>
    }
}

/// Posts the document's height to the parent page now and whenever it changes.
fn report_height() {
    let Some(window) = web_sys::window() else { return };
    let Ok(Some(parent)) = window.parent() else { return };
    let Some(body) = window.document().and_then(|d| d.body()) else { return };
    let post = move || {
        let height = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .map_or(0, |root| root.scroll_height());
        let message = web_sys::js_sys::Object::new();
        let _ = web_sys::js_sys::Reflect::set(&message, &"type".into(), &HEIGHT_MESSAGE.into());
        let _ = web_sys::js_sys::Reflect::set(&message, &"height".into(), &height.into());
        // "*": the embedding page may be on any origin, and a height is no secret.
        let _ = parent.post_message(&message, "*");
    };
    post();
    let on_resize = Closure::<dyn FnMut()>::new(post);
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
        observer.observe(&body);
        // The observer and its callback live as long as the page.
        std::mem::forget(observer);
    }
    on_resize.forget();
}
