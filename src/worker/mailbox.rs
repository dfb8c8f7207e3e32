//! The worker's inbox: `onmessage` sends each message the page posts into a channel, and the worker's one task
//! takes them out in order, waiting when there is none (a futures channel rather than a hand-made waker).

use std::collections::VecDeque;

use futures::channel::mpsc::{unbounded, UnboundedReceiver};
use futures::StreamExt;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MessageEvent;

use super::{post, scope};
use crate::protocol::{FromWorker, ToWorker};

pub struct Mailbox {
    receiver: UnboundedReceiver<ToWorker>,
    /// Messages already taken from the channel to look at, still to be handled in order.
    held: VecDeque<ToWorker>,
}

impl Mailbox {
    /// Starts receiving the page's messages; one that cannot be read is answered with an error at once.
    pub fn listen() -> Mailbox {
        let (sender, receiver) = unbounded();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let parsed = crate::transfer::unpack(event.data());
            match parsed.and_then(|(json, payload)| ToWorker::from_message(&json, payload)) {
                Ok(message) => drop(sender.unbounded_send(message)),
                Err(message) => post(&FromWorker::Error { run: None, request_id: None, message }),
            }
        });
        scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The handler lives as long as the worker.
        on_message.forget();
        Mailbox { receiver, held: VecDeque::new() }
    }

    /// The next message, waiting for one if none has arrived.
    pub async fn next(&mut self) -> ToWorker {
        if let Some(message) = self.held.pop_front() {
            return message;
        }
        // The sender lives in the `onmessage` handler, which is never dropped, so the channel never closes.
        self.receiver.next().await.expect("the mailbox stays open")
    }

    /// A message that has already arrived, without waiting.
    pub fn try_next(&mut self) -> Option<ToWorker> {
        self.held.pop_front().or_else(|| self.receiver.try_recv().ok())
    }

    /// Whether the page has asked for something a sample should not hold up (to load the model again, to start a
    /// run, or to stop the GRPO toy), without taking any message.
    pub fn urgent_waiting(&mut self) -> bool {
        while let Ok(message) = self.receiver.try_recv() {
            self.held.push_back(message);
        }
        self.held
            .iter()
            .any(|message| matches!(message, ToWorker::Init { .. } | ToWorker::Start { .. } | ToWorker::StopGrpo))
    }
}
