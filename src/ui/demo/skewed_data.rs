//! A skewed data set makes skewed outputs (lesson "Bias and safety"): the same stories about people at work, told
//! with "he" for a pilot, a doctor or a farmer and "she" for a nurse, a teacher or a cook, or with each pronoun in
//! half of every role's stories, then started on four openings for each role: how often does the model say "she"?

use leptos::prelude::*;

use super::live::LiveDemo;
use super::set_comparison::{ComparedSet, ComparisonWords, SetComparison};
use super::{ROLES_BALANCED, ROLES_SKEWED, STORIES_MODEL_URL};

#[component]
pub fn SkewedDataDemo() -> impl IntoView {
    let sets = [
        ComparedSet { dataset: &ROLES_SKEWED, column: "Trained on the skewed stories" },
        ComparedSet { dataset: &ROLES_BALANCED, column: "Trained on the balanced stories" },
    ];
    let demo = LiveDemo::new("skewed-data", STORIES_MODEL_URL, &sets[0].dataset.url());
    demo.load();
    let words = ComparisonWords {
        counts_caption: "Stories whose first sentence after the opening says “she”, by role",
        kinds_heading: "Roles",
        answers_caption: "Each story's first sentence after the opening, the part the check reads",
        probes_heading: "Opening",
    };
    view! {
        <section class="demo" aria-labelledby=demo.id("title")>
            <h3 id=demo.id("title")>"Try it: skewed stories or balanced ones"</h3>
            <p>
                "Two data sets hold the same 240 stories about people at work. In one, every pilot, doctor and farmer \
                 is “he” and every nurse, teacher and cook is “she”. In the other, each role is “he” in half of its \
                 stories and “she” in the other half. After a run the model starts 24 stories, four for each role, \
                 and the check reads the first sentence after each opening: does it say “she”?"
            </p>
            <SetComparison demo sets words />
        </section>
    }
}
