//! How well an item matches the query, best first: the name equals the query, starts with
//! it, has it as a whole word, contains it; then a column name, the description, and last
//! the configuration body. Matching is case-insensitive.

use schemars::JsonSchema;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Match {
    ExactName,
    NamePrefix,
    NameWord,
    NameSubstring,
    Column,
    Description,
    Body,
}

/// The query, lowercased once.
pub(crate) struct Needle(String);

impl Needle {
    pub fn new(query: &str) -> Self {
        Self(query.trim().to_lowercase())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn found_in(&self, text: &str) -> bool {
        text.to_lowercase().contains(&self.0)
    }

    /// How the query matches `name`, if it does.
    pub fn name_match(&self, name: &str) -> Option<Match> {
        let name = name.to_lowercase();
        if name == self.0 {
            Some(Match::ExactName)
        } else if name.starts_with(&self.0) {
            Some(Match::NamePrefix)
        } else if name
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| word == self.0)
        {
            Some(Match::NameWord)
        } else if name.contains(&self.0) {
            Some(Match::NameSubstring)
        } else {
            None
        }
    }

    /// The best of a name match, a column match and a description match.
    pub fn best(&self, name: &str, columns: &[String], description: Option<&str>) -> Option<Match> {
        self.name_match(name)
            .or_else(|| {
                columns
                    .iter()
                    .any(|c| self.found_in(c))
                    .then_some(Match::Column)
            })
            .or_else(|| {
                description
                    .is_some_and(|d| self.found_in(d))
                    .then_some(Match::Description)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_in_order() {
        let n = Needle::new("Orders");
        assert_eq!(n.name_match("orders"), Some(Match::ExactName));
        assert_eq!(n.name_match("orders_2024"), Some(Match::NamePrefix));
        assert_eq!(n.name_match("daily orders"), Some(Match::NameWord));
        assert_eq!(n.name_match("preorders"), Some(Match::NameSubstring));
        assert_eq!(n.name_match("customers"), None);
        assert_eq!(
            n.best("sales", &["ORDERS_ID".into()], None),
            Some(Match::Column)
        );
        assert_eq!(
            n.best("sales", &[], Some("all the orders")),
            Some(Match::Description)
        );
        assert!(Match::ExactName < Match::NamePrefix);
        assert!(Match::NameSubstring < Match::Description);
        assert!(Match::Description < Match::Body);
    }
}
