//! Validates `lessons/` and embeds the result: a content mistake fails the build with the file and line to fix.

#[path = "src/course/content.rs"]
mod content;
#[path = "src/course/demos.rs"]
#[allow(dead_code)] // the recorded files are for the site build
mod demos;
#[path = "src/course/progress.rs"]
#[allow(dead_code)] // likewise: only `question_key` is needed here
mod progress;
#[path = "src/course/quiz.rs"]
#[allow(dead_code)] // the grading half is for the app; content validation only normalises answers
mod quiz;
#[path = "src/course/schema.rs"]
#[allow(dead_code)] // the lookups are for the app
mod schema;

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=lessons");
    println!("cargo::rerun-if-changed=public");
    println!("cargo::rerun-if-changed=src/course");
    match content::load_course(Path::new("lessons"), Path::new("public")) {
        Ok(course) => {
            let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
            let json = serde_json::to_string(&course).expect("a course serialises");
            std::fs::write(out.join("course.json"), json).expect("OUT_DIR is writable");
        }
        Err(errors) => {
            for error in &errors {
                println!("cargo::error={error}");
            }
            std::process::exit(1);
        }
    }
}
