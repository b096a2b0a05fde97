//! Checking an alert's templates against the business account's ([`check_templates`]): each
//! language's template must exist in that WhatsApp language, be approved, and take exactly the
//! parameters the alert gives; a body written in the alert file must be the approved text. The
//! templates come from the Cloud API ([`votecheck_graph::GraphClient::message_templates`]); the
//! approved bodies then serve the previews of languages whose file gives none.

use votecheck_graph::MessageTemplate;

use crate::file::{Alert, AlertError, placeholders};

/// Checks `alert`'s templates against `account` (every template of the business account with
/// the alert's template names) and, when they pass, fills in the bodies the file left out.
/// `file` names the alert file in errors.
pub fn check_templates(
    alert: &mut Alert,
    account: &[MessageTemplate],
    file: &str,
) -> Result<(), AlertError> {
    let mut problems = Vec::new();
    for (language, wanted) in &mut alert.templates {
        let field = |name: &str| format!("templates.{language}.{name}");
        let name = &wanted.template.name;
        let code = &wanted.template.language;
        let Some(found) = account
            .iter()
            .find(|template| template.name == *name && template.language == *code)
        else {
            let mut languages: Vec<&str> = account
                .iter()
                .filter(|template| template.name == *name)
                .map(|template| template.language.as_str())
                .collect();
            languages.sort_unstable();
            problems.push((
                format!("templates.{language}"),
                if languages.is_empty() {
                    format!("the business account has no template named {name}")
                } else {
                    format!(
                        "the business account has {name} in {}, not in {code}",
                        languages.join(", ")
                    )
                },
            ));
            continue;
        };
        if !found.is_approved() {
            problems.push((
                format!("templates.{language}"),
                format!(
                    "{name} ({code}) is {}, not approved: WhatsApp would not deliver it",
                    found.status
                ),
            ));
        }
        match found.body.as_deref().map(placeholders) {
            Some(Ok(count)) if count != wanted.template.body_parameters.len() => problems.push((
                field("parameters"),
                format!(
                    "the approved {name} ({code}) takes {count} parameter(s), {} given",
                    wanted.template.body_parameters.len()
                ),
            )),
            _ => {}
        }
        match (&wanted.body, &found.body) {
            (Some(written), Some(approved)) if written.trim() != approved.trim() => {
                problems.push((
                    field("body"),
                    format!("is not the approved text of {name} ({code})"),
                ));
            }
            (None, Some(approved)) => wanted.body = Some(approved.clone()),
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AlertError::Invalid {
            file: file.to_owned(),
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approved(name: &str, language: &str, status: &str, body: &str) -> MessageTemplate {
        MessageTemplate {
            name: name.into(),
            language: language.into(),
            status: status.into(),
            body: Some(body.into()),
        }
    }

    fn alert() -> Alert {
        Alert::parse(
            "alert.toml",
            r#"
            id = "deadline"
            topic = "deadlines"
            [templates.en]
            name = "registration_deadline"
            language = "en_US"
            parameters = ["October 19"]
            body = "Register by {{1}}."
            [templates.es]
            name = "registration_deadline"
            language = "es_MX"
            parameters = ["19 de octubre"]
            "#,
            &["en".to_string(), "es".to_string()],
        )
        .unwrap()
    }

    #[test]
    fn approved_templates_pass_and_lend_their_body_to_the_preview() {
        let mut alert = alert();
        let account = [
            approved(
                "registration_deadline",
                "en_US",
                "APPROVED",
                "Register by {{1}}.",
            ),
            approved(
                "registration_deadline",
                "es_MX",
                "APPROVED",
                "Inscríbase antes del {{1}}.",
            ),
        ];
        check_templates(&mut alert, &account, "alert.toml").unwrap();
        assert_eq!(
            alert.templates["es"].preview(),
            "Inscríbase antes del 19 de octubre."
        );
    }

    #[test]
    fn missing_unapproved_mismatched_templates_are_named() {
        let problems =
            |account: &[MessageTemplate]| match check_templates(&mut alert(), account, "a.toml") {
                Err(AlertError::Invalid { problems, .. }) => problems,
                other => panic!("{other:?}"),
            };
        let found = problems(&[approved(
            "registration_deadline",
            "en_US",
            "APPROVED",
            "Register by {{1}}.",
        )]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "templates.es");
        assert!(found[0].1.contains("in en_US, not in es_MX"), "{found:?}");
        let found = problems(&[
            approved(
                "registration_deadline",
                "en_US",
                "REJECTED",
                "Register by {{1}} at {{2}}.",
            ),
            approved(
                "registration_deadline",
                "es_MX",
                "APPROVED",
                "Inscríbase antes del {{1}}.",
            ),
        ]);
        let fields: Vec<&str> = found.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "templates.en",
                "templates.en.parameters",
                "templates.en.body"
            ]
        );
        assert!(found[0].1.contains("REJECTED"), "{found:?}");
        let found = problems(&[]);
        assert!(
            found
                .iter()
                .all(|(_, problem)| problem.contains("no template named"))
        );
    }
}
