//! The clauses of a message, for a message judged *mixed* (a procedural question with a partisan
//! one attached): each clause is judged on its own, and the engine searches with the clauses
//! that are not partisan, so that "where do I check my registration in Ohio and who is the best
//! pick for governor?" is answered as "where do I check my registration in Ohio".
//!
//! A message is cut at sentence ends (Unicode sentence boundaries, `?`, `？`, `؟`, `。`), at clause
//! punctuation (`,` `;` `、` `，` `；` `،` `؛`) and before a coordinating word that starts a new
//! clause in the languages the engine serves ("and", "also", "y", "e", "et", "и", "aur", "ar",
//! "at", "và", "ma"...). Cutting too often is harmless: clauses the judgement calls questions are
//! joined again in their order.

use unicode_segmentation::UnicodeSegmentation;

/// Words that start a new clause, lower case. Only whole words count ("e" in Portuguese, not the
/// "e" of "eleição").
const COORDINATORS: &[&str] = &[
    // English, Spanish, Portuguese, French, Tagalog, Hinglish, Banglish, Vietnamese.
    "and",
    "also",
    "plus",
    "y",
    "también",
    "tambien",
    "e",
    "também",
    "tambem",
    "et",
    "aussi",
    "at",
    "saka",
    "tsaka",
    "aur",
    "ar",
    "và",
    "va",
    "còn",
    "con",
    "ma",
    "mà",
    // Russian, Arabic, Korean, Chinese, Hindi, Bengali.
    "и",
    "а",
    "также",
    "و",
    "وكمان",
    "كمان",
    "그리고",
    "글고",
    "또",
    "还有",
    "還有",
    "并且",
    "並且",
    "और",
    "तथा",
    "আর",
    "এবং",
];

/// Characters that end a clause.
const CLAUSE_MARKS: &[char] = &[
    ',', ';', '、', '，', '；', '،', '؛', '?', '？', '؟', '!', '！', '。', '\n',
];

/// The clauses of `message`, trimmed, in order; empty ones are dropped. A message without a
/// cut is one clause.
pub fn clauses(message: &str) -> Vec<String> {
    let mut clauses = Vec::new();
    for sentence in message.split_sentence_bounds() {
        for piece in sentence.split(CLAUSE_MARKS) {
            let mut current: Vec<&str> = Vec::new();
            for word in piece.split_whitespace() {
                if !current.is_empty() && COORDINATORS.contains(&word.to_lowercase().as_str()) {
                    clauses.push(current.join(" "));
                    current.clear();
                }
                current.push(word);
            }
            if !current.is_empty() {
                clauses.push(current.join(" "));
            }
        }
    }
    clauses.retain(|clause| clause.chars().any(char::is_alphanumeric));
    clauses
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_sentence_ends_punctuation_and_coordinating_words() {
        assert_eq!(
            clauses("whats the deadline to register in ohio?? and who do u think wins ohio"),
            [
                "whats the deadline to register in ohio",
                "and who do u think wins ohio"
            ]
        );
        assert_eq!(
            clauses("where do i check if im registered in NC and who is the best pick?"),
            [
                "where do i check if im registered in NC",
                "and who is the best pick"
            ]
        );
        assert_eq!(
            clauses("比例の紙ってなんて書くの？おすすめの党ある？"),
            ["比例の紙ってなんて書くの", "おすすめの党ある"]
        );
        assert_eq!(
            clauses("كيف اتأكد انه اسمي مسجل؟ وكمان مين المرشح الأفضل"),
            ["كيف اتأكد انه اسمي مسجل", "وكمان مين المرشح الأفضل"]
        );
    }

    #[test]
    fn a_message_without_a_cut_is_one_clause_and_words_are_not_cut_inside() {
        assert_eq!(
            clauses("como voto na eleição estadual"),
            ["como voto na eleição estadual"]
        );
        assert_eq!(clauses("  ?? , "), Vec::<String>::new());
        assert_eq!(clauses(""), Vec::<String>::new());
    }
}
