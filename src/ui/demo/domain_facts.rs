//! Domain text against new facts (lesson "Domain text vs new facts"): eight made-up characters' homes, foods and
//! animals trained as raw notes and, separately, as questions with answers, then asked about each home five ways
//! (as trained, in other words, without the trained question word, in reverse, and as a sentence to finish), each
//! answer judged on its first sentence.

use leptos::prelude::*;

use super::live::LiveDemo;
use super::set_comparison::{ComparedSet, ComparisonWords, SetComparison};
use super::{STORIES_MODEL_URL, TOWN_NOTES, TOWN_QUESTIONS};

#[component]
pub fn DomainFactsDemo() -> impl IntoView {
    let sets = [
        ComparedSet { dataset: &TOWN_NOTES, column: "Trained on the notes" },
        ComparedSet { dataset: &TOWN_QUESTIONS, column: "Trained on the questions" },
    ];
    let demo = LiveDemo::new("domain-facts", STORIES_MODEL_URL, &sets[0].dataset.url());
    demo.load();
    let words = ComparisonWords {
        counts_caption: "Answers whose first sentence is right, by the way the question was asked",
        kinds_heading: "Asked",
        answers_caption: "Each answer's first sentence, the part the check judges",
        probes_heading: "Question or opening",
    };
    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: notes or questions, then ask"</h3>
            <p>
                "Eight made-up characters live in a small town. The same facts about them come two ways: as short \
                 notes, and as questions with one-sentence answers. After a run the model is asked about every \
                 home five ways, and each answer's first sentence is judged: does it name the right home (or, asked \
                 in reverse, the right character)?"
            </p>
            <SetComparison demo sets words />
        </section>
    }
}
