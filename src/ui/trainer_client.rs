//! The page's one trainer: a Web Worker started the first time a demo sends it a message (never on pages without
//! a demo) and shared by every demo after, across navigations. Messages go out and events come back as JSON
//! strings (see [`crate::protocol`]).

use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{ErrorEvent, Event, MessageEvent, Worker};

use crate::protocol::{FromWorker, ToWorker};

/// Trunk builds the worker bundle `tinytune-worker` with this loader shim beside it.
const WORKER_URL: &str = "tinytune-worker_loader.js";

/// How the page's connection to the trainer stands.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainerState {
    /// Not started, or started and not heard from yet: it may still be downloading its WebAssembly.
    Starting,
    Running,
    /// It could not start, crashed, or sent something this page cannot read; the text says which.
    Stopped(String),
}

type Handler = Rc<dyn Fn(&FromWorker)>;

/// The worker and the callbacks it calls, which must live exactly as long as it does.
struct LiveWorker {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

/// The demos' handle on the trainer, from [`use_trainer`]: cheap to copy, the same worker behind every copy.
#[derive(Clone, Copy)]
pub struct TrainerClient {
    worker: StoredValue<Option<LiveWorker>, LocalStorage>,
    handlers: StoredValue<Vec<(u64, Handler)>, LocalStorage>,
    /// Messages sent before the worker said it is listening, in order.
    waiting: StoredValue<Vec<ToWorker>, LocalStorage>,
    next_handler_id: StoredValue<u64>,
    next_request_id: StoredValue<u32>,
    next_run_id: StoredValue<u32>,
    /// How many demos of each name the page has placed, so each gets element ids of its own.
    demo_names: StoredValue<Vec<String>>,
    state: RwSignal<TrainerState>,
}

/// Called once, in `App`: the worker itself starts only when a demo first sends a message.
pub fn provide_trainer_client() {
    provide_context(TrainerClient {
        worker: StoredValue::new_local(None),
        handlers: StoredValue::new_local(Vec::new()),
        waiting: StoredValue::new_local(Vec::new()),
        next_handler_id: StoredValue::new(0),
        next_request_id: StoredValue::new(0),
        next_run_id: StoredValue::new(0),
        demo_names: StoredValue::new(Vec::new()),
        state: RwSignal::new(TrainerState::Starting),
    });
}

pub fn use_trainer() -> TrainerClient {
    expect_context::<TrainerClient>()
}

impl TrainerClient {
    pub fn state(&self) -> ReadSignal<TrainerState> {
        self.state.read_only()
    }

    /// Posts `message`, starting the worker first if this is the first message of the page.
    pub fn send(&self, message: &ToWorker) {
        if matches!(self.state.get_untracked(), TrainerState::Stopped(_)) {
            return;
        }
        if self.worker.with_value(Option::is_none) {
            self.start();
        }
        if self.state.get_untracked() == TrainerState::Starting {
            self.waiting.update_value(|waiting| waiting.push(message.clone()));
            return;
        }
        self.post(message);
    }

    /// Posts `message`, its bytes transferred beside it (see [`crate::transfer`]).
    fn post(&self, message: &ToWorker) {
        let (value, transfer) = crate::transfer::pack(&message.to_json(), message.payload());
        let posted = self.worker.with_value(|live| {
            live.as_ref().map_or(Ok(()), |live| match &transfer {
                None => live.worker.post_message(&value),
                Some(transfer) => live.worker.post_message_with_transfer(&value, transfer),
            })
        });
        if let Err(error) = posted {
            self.stop(format!("a message could not be sent to it ({})", describe_js_error(&error)));
        }
    }

    /// Calls `handler` with every event from now until the calling component is removed from the page. Only a
    /// demo's run state subscribes (see `ui::demo::live`); widgets read that state.
    pub fn on_event(&self, handler: impl Fn(&FromWorker) + 'static) {
        let id = self.next_handler_id.get_value();
        self.next_handler_id.set_value(id + 1);
        self.handlers.update_value(|handlers| handlers.push((id, Rc::new(handler))));
        let handlers = self.handlers;
        on_cleanup(move || {
            handlers.try_update_value(|handlers| handlers.retain(|(other, _)| *other != id));
        });
    }

    /// A fresh id for a `Generate` request, unique on this page, so a late `Sample` never lands in the wrong place.
    pub fn next_request_id(&self) -> u32 {
        let id = self.next_request_id.get_value();
        self.next_request_id.set_value(id.wrapping_add(1));
        id
    }

    /// A fresh run id, unique for the worker's lifetime, so a late event of an older run never lands elsewhere.
    pub fn next_run_id(&self) -> u32 {
        let id = self.next_run_id.get_value();
        self.next_run_id.set_value(id.wrapping_add(1));
        id
    }

    /// A stem for a demo's element ids, unique on the page: `name` for the first demo of that name on the page,
    /// then `name-2`, `name-3`, ….
    pub fn id_prefix(&self, name: &str) -> String {
        let mut count = 0;
        self.demo_names.update_value(|names| {
            names.push(name.to_string());
            count = names.iter().filter(|n| *n == name).count();
        });
        if count == 1 {
            name.to_string()
        } else {
            format!("{name}-{count}")
        }
    }

    /// The demo named `name` left the page.
    pub fn forget_prefix(&self, name: &str) {
        self.demo_names.try_update_value(|names| {
            if let Some(at) = names.iter().rposition(|n| n == name) {
                names.remove(at);
            }
        });
    }

    fn start(self) {
        let worker = match Worker::new(WORKER_URL) {
            Ok(worker) => worker,
            Err(error) => return self.stop(format!("the browser would not start it ({})", describe_js_error(&error))),
        };
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            let event = crate::transfer::unpack(message.data())
                .and_then(|(json, payload)| FromWorker::from_message(&json, payload));
            match event {
                Ok(event) => self.deliver(&event),
                Err(reason) => self.stop(reason),
            }
        });
        let on_error = Closure::<dyn FnMut(Event)>::new(move |event: Event| {
            // A script that fails to load gives a plain `Event`; an exception in the worker gives an `ErrorEvent`.
            let reason = event
                .dyn_ref::<ErrorEvent>()
                .map(ErrorEvent::message)
                .filter(|message| !message.is_empty())
                .unwrap_or_else(|| "its program could not be loaded (are you offline?)".into());
            self.stop(reason);
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        self.worker.set_value(Some(LiveWorker { worker, _on_message: on_message, _on_error: on_error }));
    }

    fn deliver(self, event: &FromWorker) {
        if *event == FromWorker::Listening && self.state.get_untracked() == TrainerState::Starting {
            self.state.set(TrainerState::Running);
            for message in self.waiting.try_update_value(std::mem::take).unwrap_or_default() {
                self.post(&message);
            }
        }
        // Copied out first: a handler may subscribe or send, which touches the list.
        let handlers: Vec<Handler> =
            self.handlers.with_value(|h| h.iter().map(|(_, handler)| handler.clone()).collect());
        for handler in handlers {
            handler(event);
        }
    }

    /// Ends the worker for good; the callbacks stay alive because this may run inside one of them.
    fn stop(self, reason: String) {
        self.worker.with_value(|live| {
            if let Some(live) = live {
                live.worker.terminate();
            }
        });
        self.state.set(TrainerState::Stopped(reason));
    }
}

fn describe_js_error(error: &JsValue) -> String {
    error
        .dyn_ref::<web_sys::js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "no details".into())
}
