//! The data sets a run can train on: the ones the site ships for stories260K, in `public/datasets/` (each written
//! by a script in `tools/`, with its task check `<name>.check.json` beside it), and the learner's own from the data
//! studio. The playground and the embeds offer them, named by `data=` in their addresses.

use crate::protocol::STUDIO_DATASET_URL;
use crate::settings::SettingProblem;

pub struct DatasetChoice {
    /// The name in addresses: `data=letters`.
    pub key: &'static str,
    /// The file in `public/datasets/`; empty for the studio's data set.
    pub file: &'static str,
    pub title: &'static str,
    /// What it teaches, in a sentence.
    pub about: &'static str,
}

/// The address key that names the data set.
pub const DATA_KEY: &str = "data";

pub const PIP_STORIES: DatasetChoice = DatasetChoice {
    key: "pip",
    file: "pip-the-purple-robot.jsonl",
    title: "Pip the purple robot (style)",
    about: "Stories in the style the model knows, all about one new character: a little purple robot called Pip.",
};

pub const DATASETS: [DatasetChoice; 4] = [
    PIP_STORIES,
    INSTRUCTIONS,
    DatasetChoice {
        key: "letters",
        file: "letters-home.txt",
        title: "Letters home (raw text of a new domain)",
        about: "Plain text of a kind of writing the model never saw: short letters from children to their family.",
    },
    PREFERENCES,
];

/// Requests for a story about an animal at a place, each with a story that does as asked, and a task check on pairs
/// it never shows (`tools/make_animal_place_instructions.py`).
pub const INSTRUCTIONS: DatasetChoice = DatasetChoice {
    key: "instructions",
    file: "animal-place-instructions.jsonl",
    title: "Stories on request (instructions)",
    about: "Prompts that ask for a story about an animal at a place, each with a story that does as asked: the \
            model learns to follow the prompt, not to write it. A change of style takes 60 steps; this takes \
            more (try the Instruction tuning preset).",
};

/// The instruction data set's requests as preference pairs, for DPO (try the Preference tuning preset).
pub const PREFERENCES: DatasetChoice = DatasetChoice {
    key: "preferences",
    file: "animal-place-preferences.jsonl",
    title: "Stories on request, preferred and rejected (DPO)",
    about: "The same requests, each with two stories: the chosen one does as asked; the rejected one is the same \
            story about another animal at another place. For preference tuning: choose the DPO preset.",
};

/// The instruction data set as a hasty export leaves it, with broken lines, duplicates, near-duplicates and a
/// stretch of answers one row out of step (`tools/make_animal_place_messy.py`): for cleaning in the data studio
/// (lesson "Cleaning, labelling and splitting"). Its broken lines keep it from training as it stands, so runs and
/// the playground do not offer it; the studio does.
pub const MESSY: DatasetChoice = DatasetChoice {
    key: "messy",
    file: "animal-place-messy.jsonl",
    title: "Stories on request, as they came (messy)",
    about: "The instruction data set as a hasty export left it: broken lines, duplicates, and answers pasted one row \
            out of step. Clean it in the data studio.",
};

/// Eight made-up characters of a small town, each with a home, a food and an animal, as raw notes (domain text)
/// and as questions with answers, with one probe set beside both (`tools/make_town_facts.py`): the lesson "Domain
/// text vs new facts" trains on either and asks about the homes five ways.
pub const TOWN_NOTES: DatasetChoice = DatasetChoice {
    key: "town-notes",
    file: "town-notes.jsonl",
    title: "The town's notes (raw text)",
    about: "Three short notes about each of eight made-up characters of a small town: where each lives, what each \
            eats, what animal each is. Every token is a target, as in continued pretraining.",
};

/// The town's facts as questions with answers (see [`TOWN_NOTES`]).
pub const TOWN_QUESTIONS: DatasetChoice = DatasetChoice {
    key: "town-questions",
    file: "town-questions.jsonl",
    title: "The town's facts (questions and answers)",
    about: "The same facts as questions with one-sentence answers, two wordings of each question: \"Where does Bo \
            live?\" → \"Bo lives by the old mill.\"",
};

/// The same 240 short stories about people at work, told with "he" for a pilot, a doctor or a farmer and "she" for
/// a nurse, a teacher or a cook (`tools/make_role_stories.py`): the lesson "Bias and safety" trains on it and on
/// [`ROLES_BALANCED`], with one check beside both.
pub const ROLES_SKEWED: DatasetChoice = DatasetChoice {
    key: "roles-skewed",
    file: "role-stories-skewed.jsonl",
    title: "Stories about work, skewed",
    about: "240 short stories about a pilot, a doctor, a farmer, a nurse, a teacher or a cook. Every pilot, doctor \
            and farmer is “he”; every nurse, teacher and cook is “she”.",
};

/// [`ROLES_SKEWED`]'s stories with each role told with "he" in half of its stories and "she" in the other half.
pub const ROLES_BALANCED: DatasetChoice = DatasetChoice {
    key: "roles-balanced",
    file: "role-stories-balanced.jsonl",
    title: "Stories about work, balanced",
    about: "The same 240 stories, word for word, but each role is “he” in half of its stories and “she” in the \
            other half.",
};

/// SmolLM2-135M-Instruct's data set for the QLoRA demo (`tools/make_support_replies.py`), in its own folder: the
/// stories260K runs the build records are of the files beside the others.
pub const SUPPORT_REPLIES: DatasetChoice = DatasetChoice {
    key: "support",
    file: "smollm2/ridgeline-support.jsonl",
    title: "Ridgeline support replies (brand voice, chat)",
    about: "Conversations with a made-up outdoor shop's support team: a customer's message, and a reply that greets             them by name, gives one concrete next step and signs off the shop's way.",
};

/// The learner's own data set, as the data studio leaves it.
pub const STUDIO_DATASET: DatasetChoice = DatasetChoice {
    key: "studio",
    file: "",
    title: "Your data set (from the data studio)",
    about: "The data set you brought to the data studio, with your fixes, drops and split. Open the studio to \
            change it.",
};

/// Every data set a run can choose, in the order the page lists them.
pub const CHOICES: [&DatasetChoice; 5] = [&DATASETS[0], &DATASETS[1], &DATASETS[2], &DATASETS[3], &STUDIO_DATASET];

impl DatasetChoice {
    /// Relative to the site's base, so it works under a sub-path (see `ui::site`); the studio's is the name the
    /// worker holds it under.
    pub fn url(&self) -> String {
        if self.file.is_empty() {
            STUDIO_DATASET_URL.to_string()
        } else {
            format!("datasets/{}", self.file)
        }
    }

    pub fn by_file(file: &str) -> Option<&'static DatasetChoice> {
        DATASETS.iter().find(|d| d.file == file)
    }

    /// The data set a query names with `data=`; without one, the first; a name that is not shipped is reported,
    /// and the first is used.
    pub fn from_query(query: &str) -> (&'static DatasetChoice, Option<SettingProblem>) {
        let query = query.strip_prefix('?').unwrap_or(query);
        let Some((_, name)) = form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == DATA_KEY) else {
            return (&DATASETS[0], None);
        };
        match CHOICES.into_iter().find(|d| d.key == name.trim()) {
            Some(dataset) => (dataset, None),
            None => {
                let keys: Vec<&str> = CHOICES.iter().map(|d| d.key).collect();
                let message = format!(
                    "`{DATA_KEY}={name}` in the address: the data set is one of {}; using {}.",
                    keys.join(", "),
                    DATASETS[0].key
                );
                (&DATASETS[0], Some(SettingProblem { key: DATA_KEY, message }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_names_a_shipped_data_set_or_gets_the_first_with_a_message() {
        assert_eq!(DatasetChoice::from_query("?r=8&data=letters").0.file, "letters-home.txt");
        let (dataset, problem) = DatasetChoice::from_query("r=8");
        assert_eq!((dataset.key, problem), ("pip", None));
        let (dataset, problem) = DatasetChoice::from_query("data=recipes");
        assert_eq!(dataset.key, "pip");
        assert_eq!(
            problem.unwrap().message,
            "`data=recipes` in the address: the data set is one of pip, instructions, letters, preferences, studio; using \
             pip."
        );
        let (dataset, problem) = DatasetChoice::from_query("data=studio");
        assert_eq!((dataset.url().as_str(), problem), (STUDIO_DATASET_URL, None));
    }

    #[test]
    fn every_shipped_data_set_and_its_check_is_in_public() {
        let folder = crate::tests::crate_dir().join("public/datasets");
        for dataset in DATASETS.iter().chain([&MESSY, &TOWN_NOTES, &TOWN_QUESTIONS, &ROLES_SKEWED, &ROLES_BALANCED]) {
            assert!(folder.join(dataset.file).is_file(), "{} is missing from public/datasets", dataset.file);
            let check = crate::task::TaskCheck::url_beside(&dataset.url());
            let check = folder.join(check.trim_start_matches("datasets/"));
            assert!(check.is_file(), "{} has no task check ({})", dataset.file, check.display());
        }
    }
}
