//! The data sets the site ships for stories260K, in `public/datasets/`: each written by a script in `tools/`, with
//! its task check (`<name>.check.json`) beside it. The playground and the embeds offer them, named by `data=` in
//! their addresses.

use crate::settings::SettingProblem;

pub struct ShippedDataset {
    /// The name in addresses: `data=letters`.
    pub key: &'static str,
    /// The file in `public/datasets/`.
    pub file: &'static str,
    pub title: &'static str,
    /// What it teaches, in a sentence.
    pub about: &'static str,
}

/// The address key that names the data set.
pub const DATA_KEY: &str = "data";

pub const PIP_STORIES: ShippedDataset = ShippedDataset {
    key: "pip",
    file: "pip-the-purple-robot.jsonl",
    title: "Pip the purple robot (style)",
    about: "Stories in the style the model knows, all about one new character: a little purple robot called Pip.",
};

pub const DATASETS: [ShippedDataset; 3] = [
    PIP_STORIES,
    ShippedDataset {
        key: "instructions",
        file: "animal-place-instructions.jsonl",
        title: "Stories on request (instructions)",
        about: "Prompts that ask for a story about an animal at a place, each with a story that does as asked: the \
                model learns to follow the prompt, not to write it. A change of style takes 60 steps; this takes \
                more (try the Instruction tuning preset).",
    },
    ShippedDataset {
        key: "letters",
        file: "letters-home.txt",
        title: "Letters home (raw text of a new domain)",
        about: "Plain text of a kind of writing the model never saw: short letters from children to their family.",
    },
];

impl ShippedDataset {
    /// Relative to the site's base, so it works under a sub-path (see `ui::site`).
    pub fn url(&self) -> String {
        format!("datasets/{}", self.file)
    }

    pub fn by_file(file: &str) -> Option<&'static ShippedDataset> {
        DATASETS.iter().find(|d| d.file == file)
    }

    /// The data set a query names with `data=`; without one, the first; a name that is not shipped is reported,
    /// and the first is used.
    pub fn from_query(query: &str) -> (&'static ShippedDataset, Option<SettingProblem>) {
        let query = query.strip_prefix('?').unwrap_or(query);
        let Some((_, name)) = form_urlencoded::parse(query.as_bytes()).find(|(key, _)| key == DATA_KEY) else {
            return (&DATASETS[0], None);
        };
        match DATASETS.iter().find(|d| d.key == name.trim()) {
            Some(dataset) => (dataset, None),
            None => {
                let keys: Vec<&str> = DATASETS.iter().map(|d| d.key).collect();
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
        assert_eq!(ShippedDataset::from_query("?r=8&data=letters").0.file, "letters-home.txt");
        let (dataset, problem) = ShippedDataset::from_query("r=8");
        assert_eq!((dataset.key, problem), ("pip", None));
        let (dataset, problem) = ShippedDataset::from_query("data=recipes");
        assert_eq!(dataset.key, "pip");
        assert_eq!(
            problem.unwrap().message,
            "`data=recipes` in the address: the data set is one of pip, instructions, letters; using pip."
        );
    }

    #[test]
    fn every_shipped_data_set_and_its_check_is_in_public() {
        let folder = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public/datasets");
        for dataset in &DATASETS {
            assert!(folder.join(dataset.file).is_file(), "{} is missing from public/datasets", dataset.file);
            let check = crate::task::TaskCheck::url_beside(&dataset.url());
            let check = folder.join(check.trim_start_matches("datasets/"));
            assert!(check.is_file(), "{} has no task check ({})", dataset.file, check.display());
        }
    }
}
