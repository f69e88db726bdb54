"""Three outcomes: answered, partial (what the article says, and what it does not), declined (nothing bears)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    "question",
    [
        "What's the weather in Berlin?",
        "Give me a recipe for pancakes",
        "Who won the Champions League?",
        "Translate 'thank you' into German",
        "What's the average salary of an AI engineer?",
        "Which certification should an ML engineer get?",
        "hello",
    ],
)
def test_out_of_scope_is_refused_plainly(bot, question):
    reply = bot.ask(question)
    assert not reply.in_scope
    assert reply.answer.startswith("The article doesn't")
    assert reply.sources == []  # nothing unrelated is passed off as an answer
    assert 2 <= len(reply.suggestions) <= 3 and all(s in bot.profile.examples for s in reply.suggestions)
    assert [p.kind for p in reply.parts] == ["note", "offer"]


def test_refusal_names_the_missing_topic_in_plain_words(bot):
    assert bot.ask("How high is the salary of an ML engineer?").answer.startswith(
        "The article doesn't discuss pay or salaries"
    )


@pytest.mark.parametrize(
    "question", ["which one pays better, AI engineers or ML engineers?", "Do ML engineers earn more than AI engineers?"]
)
def test_a_pay_question_naming_both_roles_is_not_taken_for_the_comparison(bot, question):
    # The comparison sentence shares every content word but the pay verb; the out-of-scope phrasings that name
    # both entities ("Who earns more, A or B?", bot/data/out_of_scope.toml) keep it from answering.
    reply = bot.ask(question)
    assert not reply.in_scope
    assert reply.answer.startswith("The article doesn't discuss pay or salaries")


def test_out_of_scope_phrasings_name_the_pair_too(bot):
    from bot.scope import probes_for

    texts = [p.text for p in probes_for(bot.profile) if p.kind == "topic"]
    assert "Who earns more, AI Engineers or ML Engineers?" in texts


@pytest.mark.parametrize(
    ("question", "note"),
    [
        (
            "AI researcher vs AI engineer",
            "The article doesn't discuss AI researcher, so this covers only AI Engineers.",
        ),
        ("data scientist vs ML engineer", "The article mentions data scientist only in passing"),
    ],
)
def test_a_role_the_article_does_not_compare_gets_a_partial_answer_that_names_it(bot, question, note):
    """What the article says about the entity named, and a plain sentence on the other role: not a refusal."""
    reply = bot.ask(question)
    assert reply.outcome == "partial" and reply.in_scope
    assert reply.parts[0].kind == "quote" and reply.parts[-1].kind == "note"
    assert reply.parts[-1].text.startswith(note)


def test_a_role_the_article_contrasts_is_answered(bot):
    reply = bot.ask("how are AI engineers different from traditional software engineers?")
    assert reply.in_scope and "Unlike traditional software engineers" in reply.answer


@pytest.mark.parametrize(
    "question",
    [
        "XGBoost",
        "R",
        "Keras",
        "OpenCV",
        "linear algebra",
        "Edge AI",
        "what are their main duties?",
        "responsibilites of ai enginer",
    ],
)
def test_keywords_synonyms_and_typos_are_answered(bot, question):
    assert bot.ask(question).in_scope


def test_key_terms_skip_stopwords_entity_words_and_misspelt_stopwords(bot):
    assert bot.scope.key_terms("What does an AI engineer do with XGBoost?") == ["does", "xgboost"]
    assert bot.scope.key_terms("wich tools") == ["tools"]


def test_typo_correction_uses_corpus_words(bot):
    assert bot.scope.corrected("responsibilites of engineers") == "responsibilities of engineers"
    assert bot.scope.corrected("how much do they earn") == "how much do they earn"  # "earn" is a word, not "learn"


@pytest.mark.parametrize("question", ["What does a data engineer do?", "What does a chatbot engineer actually do?"])
def test_a_question_about_a_title_the_article_never_uses_is_refused_by_name(bot, question):
    reply = bot.ask(question)
    assert not reply.in_scope
    assert reply.answer.startswith("The article compares AI Engineers and ML Engineers; it doesn't discuss")


@pytest.mark.parametrize(
    ("question", "titles"),
    [
        ("What skills do engineers need to develop AI-based machines?", []),  # "do engineers" names no title
        ("What do data scientists do?", ["data scientist"]),
        ("is a product owner the same as a scrum lead?", ["product owner"]),
    ],
)
def test_titles_are_the_words_that_qualify_a_role_noun(bot, question, titles):
    assert bot.profile.other_titles(question) == titles


def test_a_title_the_article_describes_is_not_refused_as_another_role(bot):
    # The collaboration list describes "Data Scientists (who analyze data and extract insights)".
    assert bot.scope.other_entities("What do data scientists do?") == []


@pytest.mark.parametrize(
    ("question", "others"),
    [
        # The article lists Data Scientists among the collaborators; it never sets them apart from AI engineers.
        ("What Is the Role of a Data Scientist vs. an AI Engineer?", ["Data Scientist"]),
        ("data scientist vs ai engineer", ["data scientist"]),
        # "Unlike traditional software engineers, AI Engineers…" compares them.
        ("AI engineer vs software engineer", []),
    ],
)
def test_a_title_compared_with_an_entity_needs_a_passage_that_contrasts_them(bot, question, others):
    assert bot.scope.other_entities(bot.reader.standalone(question)) == others
    assert bot.ask(question).outcome == ("partial" if others else "answered")


def test_an_entitys_own_words_do_not_count_as_another_title(article_bot):
    """ "engineering manager" must be found as a phrase beside the entities, not pieced together from "Project
    Managers" and a stray "engineering" (tests/fixtures/pm-vs-projm, the third article)."""
    bot = article_bot("third-article")
    assert bot.loaded.corpus.parent.name == "pm-vs-projm"
    assert bot.scope.other_entities("is an engineering manager the same as a project manager?") == [
        "engineering manager"
    ]


@pytest.mark.parametrize(
    ("question", "defined"),
    [
        ("What is Edge AI?", True),  # "- Edge AI (deploying AI on IoT devices, mobile phones)"
        ("what does NLP stand for?", True),  # "natural language processing (NLP)"
        ("what is NLP?", False),  # an abbreviation in parentheses expands it, it does not define it
        ("What is machine learning?", False),  # used throughout, never defined
        ("What are AI chatbots?", False),  # "(e.g., ChatGPT, Siri)" gives examples, not a definition
        ("what is AI?", False),  # "Edge AI (…)" defines Edge AI, not AI
        ("edge AI meaning?", True),  # the term first
        ("machine learning definition", False),
    ],
)
def test_what_the_article_defines(bot, question, defined):
    assert bot.scope.defines(question) is defined


def test_a_gloss_in_the_middle_of_a_sentence_defines_its_term(tmp_path):
    (tmp_path / "a.md").write_text(
        "# Analysts\n\nAnalysts build dashboards to track KPIs (the handful of numbers a business watches most "
        "closely), such as revenue. They use Python (and R) daily.\n",
        encoding="utf-8",
    )
    from bot.scope import _term_pattern

    text = (tmp_path / "a.md").read_text(encoding="utf-8")
    assert _term_pattern("KPIs", False).search(text)
    assert not _term_pattern("Python", False).search(text)  # "(and R)" adds, it does not describe


def test_a_sentence_about_one_of_its_kind_defines_its_term():
    """ "An A/B test compares two versions…" says what an A/B test is; "An analysis only matters…" does not
    define analysis, and a term's plural or slash-joined words find the article's singular."""
    from bot.scope import _term_pattern

    text = (
        "An A/B test compares two versions of a page by showing each to a different group.\n"
        "An analysis only matters if someone acts on it.\nTeams track KPIs weekly.\n"
    )
    assert _term_pattern("A/B test", False).search(text)
    assert _term_pattern("A/B tests", False).search(text)
    assert not _term_pattern("analysis", False).search(text)
    assert not _term_pattern("KPIs", False).search(text)


def test_a_mid_sentence_apposition_defines_its_term():
    """ "…sum up what they learned in user personas, short profiles of typical users…" says what user personas
    are; a list after a comma ("track KPIs, revenue and churn") says nothing of the kind."""
    from bot.scope import _term_pattern

    text = "They then sum up what they learned in user personas, short profiles of typical users.\nThey track KPIs, revenue and churn."
    assert _term_pattern("user personas", False).search(text)
    assert not _term_pattern("KPIs", False).search(text)


def test_a_bold_list_head_defines_its_term():
    """ "6. **Technical Literacy**: Knowing enough…" says what technical literacy is; a head that holds more
    words ("**Defining the Product Vision**") does not define "product vision"."""
    from bot.scope import _term_pattern, defined_terms

    text = "6. **Technical Literacy**: Knowing enough about APIs.\n2. **Defining the Product Vision**: Where it goes."
    assert _term_pattern("technical literacy", False).search(text)
    assert not _term_pattern("product vision", False).search(text)
    assert [t.name for t in defined_terms([text])] == ["Technical Literacy"]


@pytest.mark.parametrize(
    "question",
    [
        "what do you mean by technical literacy?",
        "what do u mean by technical literacy",
        "what is meant by technical literacy?",
    ],
)
def test_what_do_you_mean_by_asks_for_a_definition(article_bot, question):
    reply = article_bot("third-article").ask(question)
    assert reply.in_scope and reply.trace.scope_reason == "the article defines what is asked about"
    assert "Knowing enough about software architecture and APIs" in reply.answer


def test_a_term_defined_by_what_it_does_is_answered(article_bot):
    reply = article_bot("sixth-article").ask("what are A/B tests?")
    assert reply.in_scope and reply.trace.scope_reason == "the article defines what is asked about"
    assert reply.answer.startswith("An A/B test compares two versions of something")


def test_a_definition_the_article_gives_is_answered(bot):
    reply = bot.ask("What is Edge AI?")
    assert reply.in_scope and reply.trace.scope_reason == "the article defines what is asked about"
    assert "Edge AI (deploying AI on IoT devices, mobile phones)" in reply.answer
    # The defining unit alone, not the conclusion's "cutting-edge AI solutions", which only shares a word.
    assert "cutting-edge" not in reply.answer


def test_a_title_named_only_in_a_table_cell_is_not_discussed(article_bot):
    """ "Works Closely With: Data engineers, …" lists collaborators; it does not compare data engineers with
    data analysts, so "data engineer vs data analyst" is declined by name."""

    sixth = article_bot("sixth-article")
    assert sixth.scope.other_entities("data engineer vs data analyst whats the difference") == ["data engineer"]
    # The question names one of the sixth article's entities: its part is answered, the other title named.
    reply = sixth.ask("business analyst vs project manager")
    assert reply.outcome == "partial" and "project manager" in reply.parts[-1].text


@pytest.mark.parametrize(
    "question",
    ["In a nutshell, what separates the two jobs?", "How much do they make?", "What tools do AI engineers use?"],
)
def test_absent_words_embedded_with_the_question_give_the_same_features(bot, question):
    # Chatbot.ask embeds the words the article lacks in the question's own pass; the features must equal
    # those computed with the words embedded on their own.
    absent = bot.scope.absent_terms(question)
    vectors = bot.embedder.encode([question, *absent])
    hits = bot.retriever.search(question, vectors[0], k=len(bot.index.chunks))
    packed = bot.scope.features(
        question, vectors[0], hits, bot.embedder, word_vectors=dict(zip(absent, vectors[1:], strict=True))
    )
    alone = bot.scope.features(question, vectors[0], hits, bot.embedder)
    assert packed == alone
    assert ("nutshell" in absent) == ("nutshell" in question)


def test_the_synonym_cosines_decide_how_far_an_absent_word_is_present(bot, monkeypatch):
    """The cosines that make an absent word a synonym are the named constants the features read."""
    from bot import scope

    question = "In a nutshell, what separates the two jobs?"  # "nutshell" is not in the article
    vector = bot.embedder.encode([question])[0]
    hits = bot.retriever.search(question, vector, k=len(bot.index.chunks))
    monkeypatch.setattr(scope, "MATCH_COSINE", 0.0)
    monkeypatch.setattr(scope, "SYNONYM_COSINE", 0.0)
    every_word_a_synonym = bot.scope.features(question, vector, hits, bot.embedder)[0]
    monkeypatch.setattr(scope, "MATCH_COSINE", 0.99)
    monkeypatch.setattr(scope, "SYNONYM_COSINE", 1.0)
    no_synonyms = bot.scope.features(question, vector, hits, bot.embedder)[0]
    assert every_word_a_synonym["missing"] == 0.0 < no_synonyms["missing"]


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("Do AI engineers use LangChain?", "“LangChain”"),  # as the question spelt it
        ("What skills does an ML engineer need, and how much do they earn?", "pay or salaries"),
        ("Do I need a degree to become an AI engineer?", "degrees or education requirements"),
        ("What does a typical day look like for an ML engineer?", "a typical day"),
    ],
)
def test_a_question_the_article_answers_in_part_gets_that_part_and_says_what_is_missing(bot, question, missing):
    reply = bot.ask(question)
    assert reply.outcome == "partial" and reply.in_scope and reply.sources
    assert reply.parts[0].kind == "quote"  # the article's part first
    assert reply.parts[-1].kind == "note" and missing in reply.parts[-1].text
    assert reply.to_dict()["outcome"] == "partial"


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("how do I bake sourdough bread?", "“sourdough” or “bread”"),
        ("Give me a recipe for pancakes", "“pancakes”"),
        ("How do I change the oil in my car?", "The article doesn't cover that"),  # "oil" is too common to name
    ],
)
def test_a_decline_names_only_what_the_question_is_about(bot, question, named):
    reply = bot.ask(question)
    assert reply.outcome == "declined" and not reply.in_scope and reply.sources == []
    assert named in reply.parts[0].text


@pytest.mark.parametrize(
    "question",
    [
        "what do AI engineers actually know?",  # filler words: never named as what the article lacks
        "how do AI engineers prevent bias?",
        "what does an AI enginer do with a1 models?",  # a typo, a label
    ],
)
def test_filler_words_typos_and_labels_are_never_named_as_missing(bot, question):
    reply = bot.ask(question)
    assert reply.outcome == "answered", reply.answer
    for word in ("actually", "know", "prevent", "a1", "enginer"):
        assert f"“{word}”" not in reply.answer


@pytest.mark.parametrize(
    "question", ["What are the duties of an ML Engineer?", "Does an AI engineer need linear algebra?"]
)
def test_a_question_asking_only_with_the_articles_words_is_not_taken_for_an_uncovered_topic(bot, question):
    """Naming a role brings a question near every topic's phrasings ("What is the job outlook for ML Engineers?");
    one that asks only with the article's own words asks nothing of the topic."""
    reply = bot.ask(question)
    assert reply.outcome == "answered", reply.answer
    assert "doesn't discuss" not in reply.answer


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Is an AI engineer paid more than an ML engineer?", "pay or salaries"),
        ("How long does it take to become an ML engineer?", "how long it takes"),
    ],
)
def test_a_question_of_the_topics_own_still_gets_the_topic_named(bot, question, topic):
    assert topic in bot.ask(question).answer


def test_a_word_inside_an_article_word_is_never_named_as_missing(bot):
    """ "torch": the article writes "PyTorch", so "it never mentions “torch”" would be false."""
    assert not bot.scope.nameable("torch", "what projects can I build with torch?")
    assert bot.scope.nameable("langchain", "do they use langchain?")
    for question in ("What projects can I build with torch?", "Do ML engineers use torch?"):
        assert "“torch”" not in bot.ask(question).answer


def test_a_question_whose_subject_is_not_in_the_article_is_not_passed_off_as_answered(bot):
    """Only the role is the article's: the word that says what is asked ("torch", too short a part of "PyTorch" to
    be found) is no word of the article's nor a synonym, so the nearest passage is given as the nearest, not as the
    answer."""
    reply = bot.ask("Do ML engineers use torch?")
    assert reply.outcome == "partial" and reply.parts[0].kind == "quote"
    assert reply.parts[-1].text == bot.profile.say("partial_unsaid")


def test_a_typo_of_an_english_word_is_not_nameable(bot):
    assert not bot.scope.nameable("salry", "what is the salry")
    assert bot.scope.nameable("kubernetes", "do they use kubernetes")
    assert not bot.scope.nameable("aibased", "AI-based machines")  # not a word the question wrote
    assert bot.scope.nameable("docker", "do they use docker")  # one letter from "locker", a rarer word: no typo


@pytest.mark.parametrize(
    ("question", "entity"),
    [
        ("What does an AI developer do?", "AI Engineer"),
        ("What skills does an AI programmer need?", "AI Engineer"),
        ("what tools do machine learning developers use?", "ML Engineer"),
        ("what does an AI software developer build?", "AI Engineer"),
    ],
)
def test_another_name_for_a_role_is_answered_as_the_role_the_article_calls_it(bot, question, entity):
    reply = bot.ask(question)
    assert reply.outcome == "answered" and reply.sources
    assert reply.parts[-1].kind == "note" and f"The article calls this role “{entity}”" in reply.parts[-1].text


@pytest.mark.parametrize("question", ["What does an AI researcher do?", "what does a data engineer do?"])
def test_another_job_is_not_taken_for_a_role_the_article_covers(bot, question):
    assert bot.profile.other_names(question) == []
    assert bot.ask(question).outcome == "declined"


@pytest.mark.parametrize(
    ("question", "title"),
    [
        ("What are the responsibilities of a data scientist?", "Data Scientists"),
        ("Who do software engineers work with?", "Software Engineers"),
    ],
)
def test_a_title_the_article_names_only_in_passing_gets_what_it_says_of_it(bot, question, title):
    """The article lists data scientists and software engineers as collaborators and describes neither: the reply
    quotes what it says of them, not the roles' own responsibilities, and says it says no more."""
    reply = bot.ask(question)
    assert reply.outcome == "partial", reply.answer
    assert title in reply.parts[0].text
    assert "only in passing" in reply.parts[-1].text and "s only in passing" in reply.parts[-1].text


def test_a_decline_names_the_missing_words_most_about_the_question(bot):
    """Of the words the article lacks, the reply names those about as central to the question as the most central
    one: every word of a recipe question, not a stray adjective beside the thing asked about."""
    words = bot.scope._central(["coveted", "phd"], bot.embedder.encode(["Is a PhD coveted?"])[0], bot.embedder, {})
    assert words == ["phd"]
    reply = bot.ask("What is the best sourdough bread recipe?")
    assert reply.outcome == "declined" and "“sourdough”, “bread” or “recipe”" in reply.answer


def test_the_topic_named_is_one_whose_own_words_the_question_uses(bot):
    """ "PhD" is a word of the degrees topic's phrasings: the reply names degrees, not the job market, even when
    the question's other words bring it nearer the job market's phrasings."""
    reply = bot.ask("Is a PhD really coveted for ML engineers?")
    assert "degrees or education requirements" in reply.answer
    assert "job market" not in reply.answer


@pytest.mark.parametrize(
    ("question", "note"),
    [
        ("Is Python the best language for ML engineers?", "The article doesn't say which is “best”"),
        ("Which is easier, AI or ML engineering?", "The article doesn't say which is “easier”"),
        ("Should I learn PyTorch or TensorFlow?", "The article doesn't say which to choose"),
    ],
)
def test_a_judgement_the_article_never_makes_is_said_not_made(bot, question, note):
    """The article lists what each role uses and ranks nothing: what it says about the things judged, and that it
    does not judge them (bot/data/judgement_words.txt)."""
    reply = bot.ask(question)
    assert reply.outcome == "partial" and reply.parts[0].kind == "quote"
    assert reply.parts[-1].text.startswith(note)


def test_should_without_a_choice_asks_for_no_judgement(bot):
    assert bot.ask("What skills should an AI engineer have?").outcome == "answered"


@pytest.mark.parametrize(
    ("question", "quoted", "note"),
    [
        (
            "What does a ChatGPT developer do?",
            "AI chatbots and virtual assistants (e.g., ChatGPT, Siri)",
            "The article doesn't discuss ChatGPT developer; this is what it says about “ChatGPT”.",
        ),
        (
            "What does an AI robotics engineer do?",
            "robotics",
            "The article doesn't discuss AI robotics engineer; this is what it says about “robotics”.",
        ),
    ],
)
def test_a_title_qualified_by_what_the_article_speaks_of_gets_what_it_says_there(bot, question, quoted, note):
    """A title the article never names, qualified by a word it uses ("ChatGPT", "robotics"): not a refusal, but
    what the article says there and that it says no more. "AI researcher" ("AI" is a role's own word) and "data
    engineer" ("data" says little) are still declined."""
    reply = bot.ask(question)
    assert reply.outcome == "partial", reply.answer
    assert quoted in reply.parts[0].text and reply.parts[-1].text == note
    for other in ("What does an AI researcher do?", "What does a data engineer do?"):
        assert bot.ask(other).outcome == "declined"


def test_a_verb_before_a_title_is_not_part_of_it(bot):
    assert bot.profile.other_titles("Will AI replace robotics engineers?") == ["robotics engineer"]


def test_a_pm_is_a_title(bot):
    reply = bot.ask("What's the difference between an AI PM and an ML PM?")
    assert reply.outcome == "declined" and "AI PM, ML PM" in reply.answer


def test_why_one_over_another_is_a_choice_the_article_does_not_explain(bot):
    reply = bot.ask("Why learn Python over Java?")
    assert reply.outcome == "partial" and reply.parts[-1].text.startswith("The article doesn't say why")


def test_a_row_that_answers_only_in_part_gets_no_yes(bot):
    """ "Is Python mandatory for ML engineers?": the row lists Python, and says nothing of "mandatory"."""
    reply = bot.ask("Is Python mandatory for ML engineers?")
    assert reply.outcome == "partial" and not reply.answer.startswith("Yes")
    assert "“mandatory”" in reply.parts[-1].text


def test_a_sentence_close_to_the_question_is_given_though_most_of_its_words_are_missing(bot):
    """CLOSE_COSINE: the ethical-AI sentence is about "accountability in AI decision-making", a word the article
    lacks; the question is answered in part, not declined as mostly missing."""
    reply = bot.ask("How do engineers ensure accountability in AI decision-making processes?")
    assert reply.outcome == "partial" and "ethical" in reply.parts[0].text
    assert "“accountability”" in reply.parts[-1].text


def test_a_title_in_a_question_about_an_uncovered_topic_gets_the_topic(bot):
    reply = bot.ask("Will AI replace recommendation systems engineers?")
    assert reply.outcome == "declined" and "the job market" in reply.answer


def test_a_modal_verb_is_not_part_of_a_title(bot):
    assert bot.profile.other_titles("How should PM and engineer split work?") == []


def test_a_unit_close_to_a_question_mostly_in_missing_words_is_given_and_a_far_one_is_not(bot):
    """CLOSE_COSINE: "who owns the AI strategy?" is near the product managers "who define AI use cases and
    strategies"; "the bias-variance tradeoff" is near nothing the article says, and is declined."""
    near = bot.ask("Which team owns the AI strategy and agenda at a company?")
    assert near.outcome == "partial" and "Product Managers (who define AI use cases and strategies)" in near.answer
    far = bot.ask("What is the bias-variance tradeoff?")
    assert far.outcome == "declined" and "“tradeoff”" in far.answer


def test_a_who_question_naming_an_article_word_is_not_a_keyword_query(bot):
    """ "Who programmed ChatGPT?" is three words of the article's, but a question for a person it never names: the
    applications list that names ChatGPT is given as only what the article says, not as the answer."""
    reply = bot.ask("Who programmed ChatGPT?")
    assert reply.outcome == "partial" and "only in passing" in reply.parts[-1].text
    assert bot.ask("Keras?").outcome == "answered"  # a keyword query stays one


@pytest.mark.parametrize(
    ("question", "a", "b"),
    [
        ("Scikit-Learn vs TensorFlow: Which is Right for Your Machine Learning Project?", "Scikit-Learn", "TensorFlow"),
        ("What is the difference between Machine Learning and Deep Learning?", "Machine Learning", "Deep Learning"),
        ("How does PyTorch differ from TensorFlow?", "PyTorch", "TensorFlow"),
    ],
)
def test_two_things_the_article_names_but_never_compares_get_a_partial_answer_saying_so(bot, question, a, b):
    """The article compares its roles; it lists these things (as one role's tools, in passing) without comparing
    them with each other. Passing its row off as their comparison would mislead."""
    reply = bot.ask(question)
    assert reply.outcome == "partial"
    assert f"The article doesn't compare “{a}” and “{b}”" in reply.answer


@pytest.mark.parametrize(
    "question", ["How do AI engineers compare to ML engineers?", "How does an AI engineer differ from an ML engineer?"]
)
def test_asking_how_the_roles_compare_is_answered_without_a_hedge(bot, question):
    """ "compare" is how the question asks, not something the article lacks (it used to say it never mentions it)."""
    reply = bot.ask(question)
    assert reply.outcome == "answered"
    assert "compare" not in reply.answer.lower().replace("comparison", "")


def test_compared_reads_the_two_sides_as_written():
    from bot.scope import compared

    assert compared("Python vs. R: which should I learn?") == ["Python", "R"]
    assert compared("How does Scikit-learn compare to other machine learning libraries?") == [
        "Scikit-learn",
        "machine learning libraries",
    ]
    assert compared("What does an AI engineer do?") == []


@pytest.mark.parametrize(
    ("question", "note"),
    [
        ("Why is GPU important for AI development?", "The article doesn't say why"),
        ("What Exactly is Edge AI? (And Why Should You Care?)", "The article doesn't say why"),
        ("When does edge AI make sense instead of cloud?", "The article doesn't say when"),
        ("Who should own AI features in product teams?", "The article doesn't say who should"),
        ("How many developers does it take to build a chatbot?", "The article doesn't give a number"),
    ],
)
def test_a_reason_or_a_condition_the_article_never_gives_is_said_not_to_be_given(bot, question, note):
    """The article lists GPU acceleration and Edge AI as what AI Engineers optimize for; it never says why or when.
    Its list is what it says; passing it off as the reason would mislead."""
    reply = bot.ask(question)
    assert reply.outcome == "partial"
    assert reply.answer.endswith(f"{note}; this is only what it says on your question.")


def test_when_opening_a_clause_is_not_asking_when(bot):
    """ "When a user sends a prompt …, is the model training?" asks what, not when."""
    assert (
        bot.scope.unexplained("When a user sends a prompt to a chatbot, is it training?", bot.embedder.encode(["x"])[0])
        == ""
    )


def test_a_reason_the_nearest_passage_gives_is_not_hedged(tmp_path):
    """The same question over an article whose nearest sentence gives the reason ("because") is answered."""
    from bot.chat import Chatbot

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "gpus.md").write_text(
        "# GPU engineers vs CPU engineers\n\n"
        "| Aspect | GPU Engineer | CPU Engineer |\n|---|---|---|\n| Focus | Graphics cards | Processors |\n\n"
        "## Speed\n\nGPU Engineers matter because they make training many times faster.\n",
        encoding="utf-8",
    )
    bot = Chatbot.load(corpus, tmp_path / "index")
    assert (
        bot.scope.unexplained("Why do GPU engineers matter?", bot.embedder.encode(["Why do GPU engineers matter?"])[0])
        == ""
    )


@pytest.mark.parametrize(
    ("question", "term"),
    [
        ("What does 'bias' mean in the context of AI?", "bias"),
        ("What does transparency mean in AI?", "transparency"),
        ("What is TensorFlow in machine learning?", "TensorFlow"),
    ],
)
def test_the_term_a_definition_question_asks_about_is_read_without_its_frame(question, term):
    """The note quotes the term: "The article uses “bias” but doesn't say what it is", never “'bias' mean”."""
    from bot.scope import defined_term

    assert defined_term(question) == term


def test_titles_the_article_names_in_passing_beside_others_it_never_names_are_answered_in_part(bot):
    """ "Data Scientist or Backend Developer?": the article lists data scientists among the collaborators and never
    names backend developers. Declining "it doesn't discuss Data Scientist" would be false."""
    reply = bot.ask("Do you need a Data Scientist or a Backend Developer (or Data Engineer)?")
    assert reply.outcome == "partial"
    assert "Data Scientists (who analyze data and extract insights)" in reply.answer
    assert "The article doesn't discuss Backend Developer, Data Engineer; it mentions Data Scientists" in reply.answer


def test_word_frequencies_read_every_line_of_the_list() -> None:
    from bot.profile import DATA_DIR
    from bot.scope import word_frequencies

    expected = {}
    for line in (DATA_DIR / "word_frequency.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, zipf = line.split("\t")
            expected[word] = float(zipf)
    assert list(word_frequencies().items()) == list(expected.items())
    assert len(expected) > 30_000
