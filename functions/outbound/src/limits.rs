//! WhatsApp's limits on what a business sends, in characters (not bytes) and counts, as the
//! Cloud API documents them. Declared here once: the engine fits its replies to them, the Graph
//! API client refuses a message that breaks them before Meta does, the console shows them.

/// Characters of a text message's body.
pub const MAX_TEXT_BODY: usize = 4096;
/// Characters of an interactive message's body (buttons, list).
pub const MAX_INTERACTIVE_BODY: usize = 1024;
/// Reply buttons in one message.
pub const MAX_BUTTONS: usize = 3;
/// Characters of a reply button's title.
pub const MAX_BUTTON_TITLE: usize = 20;
/// Characters of a reply button's id.
pub const MAX_BUTTON_ID: usize = 256;
/// Rows of a list message (all sections together).
pub const MAX_LIST_ROWS: usize = 10;
/// Characters of a list row's title.
pub const MAX_ROW_TITLE: usize = 24;
/// Characters of a list row's description.
pub const MAX_ROW_DESCRIPTION: usize = 72;
/// Characters of a list row's id.
pub const MAX_ROW_ID: usize = 200;
/// Characters of a list section's title.
pub const MAX_SECTION_TITLE: usize = 24;
/// Characters of the label of the button that opens a list.
pub const MAX_LIST_BUTTON: usize = 20;
/// Characters of a message template's name (lower-case letters, digits and `_`).
pub const MAX_TEMPLATE_NAME: usize = 512;
/// Characters of a template's body once its parameters are filled in; a single parameter can
/// therefore be no longer either.
pub const MAX_TEMPLATE_BODY: usize = 1024;
/// Consecutive spaces a template parameter may hold (more, or a new line or a tab, and the
/// Cloud API refuses the message).
pub const MAX_TEMPLATE_PARAMETER_SPACES: usize = 4;
