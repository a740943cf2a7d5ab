"""The three graduated-response frameworks the platform ships, as plain Python data.

Templates are code, not rows: they are reviewed and versioned with the source, need no
migration to change, and can be read without any tenant scope (they belong to nobody).
The database holds only local authorities' own frameworks, each made by copying one of
these (`services.framework_copy_for_la`) and then edited by the LA.

Wording is our own condensed summary of the seed documents (a North West AIP provision
map, Wrexham's graduated response, and a secondary SMEH provision map); strategy names
stay close to the originals because schools recognise them.

Text fields are tuples of short items; a copy stores them one item per line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TemplateStrategy:
    name: str
    description: str = ""


@dataclass(frozen=True)
class TemplateStep:
    number: int
    tier_label: str
    summary: str = ""
    support_level: str = ""
    who_leads: str = ""
    behaviour_descriptors: tuple[str, ...] = ()
    assessment: tuple[str, ...] = ()
    planning: tuple[str, ...] = ()
    grouping: tuple[str, ...] = ()
    staffing: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    review: tuple[str, ...] = ()
    strategies: tuple[TemplateStrategy, ...] = ()
    next_step: str = ""
    # Distinct strategies tried and reviewed at this step before moving up; None: no count rule.
    min_strategies_to_escalate: int | None = None
    escalation_note: str = ""


@dataclass(frozen=True)
class TemplateFramework:
    key: str
    name: str
    description: str
    steps: tuple[TemplateStep, ...]


def _s(*names: str) -> tuple[TemplateStrategy, ...]:
    return tuple(TemplateStrategy(name) for name in names)


NW_SIX_STEP = TemplateFramework(
    key="nw-six-step",
    name="Six-step behaviour, social and emotional provision map",
    description=(
        "Six steps from whole-school provision to specialist placement, linked to three levels "
        "of Alternative Inclusion Partnership (AIP) support. Each step lists what the pupil's "
        "behaviour looks like, how staff assess, plan and teach, and the strategies to try "
        "before moving on."
    ),
    steps=(
        TemplateStep(
            number=1,
            tier_label="Universal",
            summary="The whole-school offer every pupil receives.",
            support_level="AIP level 1",
            who_leads="School, with AIP level 1 support if needed",
            behaviour_descriptors=(
                "Not a response to a concern: this is what the whole school provides",
                "Ethos, behaviour policy and day-to-day practice set the tone",
                "Relationships and the classroom and playground environment get attention",
                "Every pupil has planned chances to learn social and emotional skills (e.g. SEAL)",
            ),
            assessment=(
                "Class and behaviour management systems work across the school",
                "Rewards and sanctions follow clearly from positive and negative behaviour",
                "Ways exist to observe, monitor and assess a pupil's behaviour",
            ),
            planning=(
                "Pastoral support, PSE, SEN and the curriculum are joined up",
                "Expectations are clear and tied to clear outcomes",
                "Teaching and support staff have a route to raise concerns and plan together",
            ),
            grouping=(
                "Ordinary classes, with care over organisation and who sits with whom",
                "Good teaching practice is the first line of support",
            ),
            staffing=(
                "The class teacher leads, with the staff and resources normally in the room",
                "Staff use the behaviour policy's range of strategies",
                "A shared approach agreed with parents and carers",
                "Staff trained in emotional and social development and behaviour",
                "Any LSU or nurture provision has clear entry and exit criteria",
            ),
            methods=(
                "Differentiate the curriculum and materials within the class",
                "Take account of how each pupil learns best",
                "Use behaviour targets in class and on the playground",
                "Teach social and emotional skills in a planned way",
                "Keep school, home and pupil talking to one another",
            ),
            strategies=_s(
                "Whole-school behaviour and inclusion policy, monitored",
                "Positive relationship building",
                "Regular merited praise",
                "Certificate and celebration assemblies",
                "Circle time",
                "Clear, assertive and respectful communication",
                "Consistent boundaries and guidelines",
                "School council and pupil voice",
                "Peer mentoring and buddy schemes",
                "Lunchtime nurture support from a TA",
                "Restorative practice",
                "Breakfast club and lunchtime or after-school activities",
            ),
            next_step=(
                "The AIP can advise on behaviour strategies and positive reward systems and offer "
                "nurture training; contact the AIP director or make a level 1 referral."
            ),
            escalation_note="Move to step 2 when early signs of need persist despite the whole-school offer.",
        ),
        TemplateStep(
            number=2,
            tier_label="Universal Plus",
            summary="Early intervention for low-level or infrequent difficulties.",
            support_level="AIP level 1",
            who_leads="School with AIP level 1 support, possibly the cluster",
            behaviour_descriptors=(
                "Low-level or infrequent social, emotional or behavioural difficulties",
                "Withdrawn or isolated",
                "Early signs of aggression",
                "Social skills young for their age",
                "Disrupts or distracts others",
                "Overactive; finds concentrating hard",
                "Keeps to most, but not all, classroom routines",
                "Finds friendships, group rules or joining in with class work hard",
                "Shows signs of stress or anxiety",
                "Struggles with instructions given to the whole class",
                "Does not respond to the usual rewards and consequences",
                "May be involved in bullying, as bully or target",
            ),
            assessment=(
                "Mostly the usual class assessments; the SENCO or a trained mentor may add observations",
                "The pupil assesses themselves",
                "Record context, structured and unstructured times, frequency and triggers",
                "Risk-assess the difficult times of the school day",
                "Judge progress as a measured change in behaviour and learning at each review",
                "Note how the pupil learns and what motivates them",
                "Log each intervention, assessment, action and outcome",
            ),
            planning=(
                "An individual support programme based on the assessments, with a named key worker",
                "Parents involved regularly and backing the targets at home",
                "The pupil helps set and track their own targets",
                "How the pupil responds to the social and learning environment shapes the IEP/IBP",
                "Records kept up to date",
            ),
            grouping=(
                "Ordinary class, with thought given to grouping",
                "Small groups for an identified need, e.g. listening, thinking or social skills",
                "Small groups to practise expected behaviour and work on related learning difficulties",
                "An individual programme for a specific need",
                "A quiet spot in the classroom for individual work",
                "Nurture provision",
            ),
            staffing=(
                "Class or subject teacher leads, with the usual classroom resources",
                "The SENCO advises on assessment and planning",
                "Extra adults support flexible groups, differentiation and some 1:1",
                "Close watch for flash points",
                "Extra support at the times the risk assessment flags",
                "A shared approach agreed with parents and carers",
            ),
            methods=(
                "Differentiate so the pupil can reach the whole curriculum",
                "Share what works with staff and the family",
                "Differentiate more, by presentation or by outcome",
                "Cut the level, pace and amount of teacher talk",
                "Teach to the pupil's preferred way of learning",
                "Some specific group or 1:1 programmes",
                "Prepare the pupil for change and keep routines clear",
                "Review regularly",
            ),
            strategies=_s(
                "Further learning assessment and support (nurture, learning mentor, external agency)",
                "Behaviour targets",
                "Sticker charts",
                "Enhanced report cards and home-school rewards",
                "Behaviour monitoring diary",
                "Prompt cards for class and playground targets",
                "Visual systems and timetables",
                "Small-group skills work (concentration, social, listening, conflict resolution)",
                "Short-term individual support",
                "Solution-focused, re-tracking or motivational approaches",
                "Circle of friends",
                "ICT and specialist equipment",
                "AIP advice on IBPs",
            ),
            next_step=(
                "Ask the local AIP (not the provision itself) for early-intervention staff to work "
                "with named pupils 1:1, in groups, in class or with parents; they evaluate the work "
                "and advise on next steps. Consider a cluster referral for family support or TaMHS."
            ),
            min_strategies_to_escalate=2,
            escalation_note="Try and review at least two strategies from this catalogue before step 3.",
        ),
        TemplateStep(
            number=3,
            tier_label="Targeted",
            summary="Targeted support when early intervention has not changed the behaviour.",
            support_level="AIP level 2",
            who_leads="School with AIP level 2 support and the cluster",
            behaviour_descriptors=(
                "No measurable change in the target behaviour or social skill",
                "Difficulties still hold back learning and social development in several settings",
                "Keeps only some classroom routines",
                "Relationships with adults and peers remain difficult",
                "May be socially vulnerable or withdrawn; behaviour inconsistent and hard to predict",
                "Stress or anxiety linked to particular times or situations",
                "Prefers their own agenda; reluctant to follow instructions",
                "At risk of fixed-term exclusion",
                "Aggressive behaviour becoming more frequent",
            ),
            assessment=(
                "Assess against the chosen intervention",
                "Extend the pupil's self-assessment and feed it into the IEP/IBP",
                "Record frequency and intensity in more detail",
                "Decide which education and other services to involve; this may lead to a CAF (Early Help)",
                "Consider alerting the educational psychologist early",
            ),
            planning=(
                "Curriculum plan matches attainment and includes individual IEP behaviour targets",
                "Extra steps to engage the pupil and parents",
                "Identify any input needed from outside education",
                "Communication lets everyone involved give consistent support",
                "The CAF process shapes a holistic support plan",
            ),
            grouping=(
                "Everything at step 2, plus daily teaching of social skills and managing emotions",
                "Stays in class, with small-group sessions at set times",
                "Time-limited small-group programmes for an identified need",
                "Ongoing 1:1 time on specific IEP targets",
                "The AIP team may help deliver it",
            ),
            staffing=(
                "Class or subject teacher leads, advised by the SENCO and/or AIP staff",
                "An extra adult, directed by the teacher, gives sustained targeted support",
                "May include withdrawal from class",
                "Daily in-school support for learning and behaviour",
                "More parent involvement, and other agencies helping to plan and review impact",
                "Encouragement to join extracurricular activities",
                "A named key worker with a clearly defined role",
            ),
            methods=(
                "Match the level, pace and amount of teacher talk to need",
                "Individual targets within group or 1:1 programmes",
                "Allow for difficulty understanding the unwritten rules of the classroom",
                "More differentiated activities and materials, matched to learning style",
                "Regular small-group work on relationships, emotions, social skills and conflict",
                "Consider a flexible alternative curriculum: play, creative work, drama, calm room",
            ),
            strategies=_s(
                "Further learning assessment and support (nurture provision, LSU, learning mentor)",
                "Calm room",
                "Behaviour targets",
                "Sticker charts",
                "Extra planning for transition",
                "Home-school diary",
                "School nurse involvement",
                "Restorative practice",
            ),
            next_step=(
                "Refer to Support & Guidance for holistic support, or to the AIP for local "
                "intervention or to discuss level 2 (e.g. KS1 Gateway, KS2 Orchard/L2L, KS2-4 PRU). "
                "A Pupil/Family Passport can ask for cluster support."
            ),
            min_strategies_to_escalate=3,
            escalation_note=(
                "Try up to three strategies from this step's catalogue, and review them, before step 4; "
                "name a single point of contact for the pupil's support."
            ),
        ),
        TemplateStep(
            number=4,
            tier_label="Targeted",
            summary="Intensive targeted support for significant, persistent needs.",
            support_level="AIP level 3",
            who_leads="School with level 2 support and the cluster, leading towards the PRU",
            behaviour_descriptors=(
                "Significant and persistent social, emotional and behavioural needs",
                "Still at risk of fixed-term exclusion or of missing school",
                "Frequent, intense behaviour (withdrawn or disruptive) harming learning and relationships",
                "Marked difficulty with social interaction, communication and understanding",
                "Misreads social situations and so is vulnerable",
                "Withdrawn, or quick to flare up",
            ),
            assessment=(
                "As at step 3, and check that every earlier step was really put in place",
                "Gather evidence for a funding (FFI) application",
            ),
            planning=(
                "Behaviour and curriculum plan tracks attainment; IEP targets personal, short-term, specific",
                "Parents and carers involved more often to engage the pupil",
                "Any extra resources accounted for accurately",
                "Prevention placements run jointly by school, LSC, KS3 provision and PRU",
                "CAF multi-agency planning names each service's part and the lead practitioner",
                "Consider or start an EHC plan, in conversation with the EP and SENCO",
            ),
            grouping=(
                "Ordinary class, mostly working on modified tasks",
                "Frequent small-group work on identified need",
                "Daily 1:1 time on specific SEMH and learning targets",
                "LSC, KS3 provision or PRU placement with intensive individual and small-group support",
            ),
            staffing=(
                "Class or subject teacher leads, supported by the SENCO and advised by AIP and EP",
                "Daily access to staff experienced in SEMH (behaviour support worker, HLTA, mentor, SENCO)",
                "An extra adult, directed by the teacher, supports work on modified tasks",
                "A blend of one-to-one, small-group and whole-class work",
            ),
            methods=(
                "Teach for curriculum and SEMH outcomes throughout the day",
                "Tasks and presentation personalised",
                "Teaching methods follow how the pupil learns",
                "1:1 teaching to introduce new ideas and reinforce routines",
                "Small-step targets in group or 1:1 tasks",
                "SMART targets, reviewed often for impact",
                "Mainstream lessons most of the time, with access to a local LSC or in-school support",
            ),
            strategies=_s(
                "Further learning assessment and support (nurture group, LSC, learning mentor)",
                "Behaviour targets",
                "Sticker charts",
                "Observation schedules",
                "Enhanced report cards and reward systems",
                "Behaviour monitoring diary",
                "Prompt cards for class and playground targets",
                "Visual systems and timetables",
                "Small-group skills work (concentration, social, listening, conflict resolution)",
                "Short-term individual support",
                "Solution-focused, re-tracking or motivational approaches",
                "Extra circle time",
                "ICT and specialist equipment",
            ),
            next_step=(
                "With the AIP and/or TSL: a managed move, external mentoring (AIP or voluntary "
                "sector), more intensive parenting work, AIP or SENIT support to return from the "
                "LSC, or external 1:1 support."
            ),
            min_strategies_to_escalate=5,
            escalation_note=(
                "Try up to five strategies, with every extra resource committed to the pupil, before step 5."
            ),
        ),
        TemplateStep(
            number=5,
            tier_label="Targeted to Specialist",
            summary="School and PRU together, for severe and complex needs.",
            support_level="AIP level 3",
            who_leads="PRU and school together",
            behaviour_descriptors=(
                "Severe, persistent and complex social, emotional and behavioural needs",
                "Higher risk of exclusion, including permanent exclusion",
                "Lacks the social and emotional skills to cope in mainstream",
                "Growing difficulty with social interaction, communication and understanding",
                "Increasingly isolated; cannot keep positive relationships with adults or peers",
                "Learning cannot be steadied without major changes to mainstream provision",
            ),
            assessment=(
                "As at steps 3-4, with a wider range of professionals",
                "Where suitable, a prevention assessment period at the PRU",
                "The CAF process sets the nature and extent of support",
                "Educational psychologist involved",
            ),
            planning=(
                "An IEP or IBP records the provision, the strategies and near-term targets",
                "Parents, any off-site provider and other agencies join the planning",
                "Prevention placements run jointly by school and PRU",
                "The CAF process sets what other children's services contribute",
                "EHC needs assessment under way",
            ),
            grouping=(
                "Mostly taught in small groups, away from the mainstream timetable",
                "Limited time in mainstream classes",
                "Phased return to school where suitable",
            ),
            staffing=(
                "Main provision outside the mainstream curriculum, with some mainstream classes",
                "Daily access to staff trained in SEN",
                "More specialist provision: PRU prevention placements, part-week alternative provision",
                "A managed move tried or discussed (inclusion sub-group for secondary, heads for primary)",
            ),
            methods=(
                "Much of the curriculum taught outside mainstream, in small groups or 1:1",
                "Personalised curriculum; may be disapplied from parts of it at KS3/4",
                "The whole day is built around core skills and SEMH goals",
                "Most lessons off the mainstream timetable: more LSU/LSC or part-time alternative provision",
            ),
            strategies=_s(
                "Targeted intervention drawing on several strategies",
                "Individual programme",
                "1:1 and small-group teaching",
                "Restorative practice",
                "Part-week alternative provision",
                "Managed move",
                "PRU prevention placement",
            ),
            next_step=(
                "With the AIP and TSL: a managed move on leaving the PRU, or part-week alternative "
                "provision matched to need. Document every extra resource and exceptional arrangement "
                "as evidence for a statutory assessment request."
            ),
            escalation_note=(
                "Step 6 follows statutory assessment, once alternative provision, a managed move or a "
                "PRU prevention placement has been tried and discussed."
            ),
        ),
        TemplateStep(
            number=6,
            tier_label="Specialist",
            summary="On roll at a specialist setting.",
            support_level="",
            who_leads="Specialist LA provision",
            behaviour_descriptors=(
                "Needs a specialist SEMH learning environment",
                "Judged unsuited to mainstream after discussion with the EP, SENSAP and AIP",
                "Part-time timetables and off-site placements have not held",
                "More than one placement has failed after managed moves",
                "At risk of another permanent exclusion for persistent disruption despite support",
                "Assessed at a PRU as not suited to a mainstream setting",
            ),
            assessment=("Statutory assessment decides the placement", "Pupil on roll at a specialist school"),
            planning=("Set by the specialist provision",),
            grouping=(
                "An alternative to mainstream education",
                "Learning built around significant SEMH needs",
            ),
            staffing=("Advice from the relevant specialist services",),
            methods=("Personalised to the pupil's specific needs",),
            strategies=_s(
                "Personalised programme",
                "Specialist service advice",
                "EHC plan naming every agency's role",
            ),
            next_step=(
                "EHC plan reviews consider a return to mainstream at KS3, or routes on from KS4 to post-16."
            ),
        ),
    ),
)


FOUR_TIER = TemplateFramework(
    key="four-tier",
    name="Four-tier graduated response",
    description=(
        "A whole-school offer and three further tiers, each building on the tools already in "
        "use: support within school, support with outside agencies, and intensive or specialist "
        "provision."
    ),
    steps=(
        TemplateStep(
            number=1,
            tier_label="Universal",
            summary="Provision for all learners.",
            who_leads="School leaders and every member of staff",
            behaviour_descriptors=("Every learner: the whole-school offer",),
            assessment=(
                "Screen social and emotional development to spot learners at risk (e.g. Boxall, PASS)",
            ),
            planning=("Share what is known about learners' individual needs with the staff who teach them",),
            staffing=("Leaders and governors champion wellbeing and relationships", "Whole-staff training"),
            methods=(
                "Quality-assured teaching; a broad, flexible curriculum",
                "Differentiate curriculum, environment and outcomes",
            ),
            strategies=_s(
                "Leadership that champions wellbeing",
                "Inclusive ethos that celebrates diversity",
                "One Page Profiles",
                "Pupil participation and voice",
                "Whole-school behaviour policy",
                "Anti-bullying policy",
                "Restorative approaches",
                "Adaptable learning environment",
                "Effective transition",
                "Boxall Profile / PASS",
                "ACE-aware, trauma-informed staff",
            ),
            escalation_note="Move up when a learner's needs are not met by the whole-school offer.",
        ),
        TemplateStep(
            number=2,
            tier_label="Targeted",
            summary="Extra support within school, building on tier 1.",
            who_leads="School: class teacher, pastoral staff and SENCo/ALNCo",
            behaviour_descriptors=("Concerns continue despite the whole-school offer",),
            assessment=("SENCo/ALNCo checks for an underlying learning difficulty",),
            planning=(
                "Person-centred planning with the pupil's voice",
                "IEP/IDP agreed with parents' or carers' consent",
            ),
            staffing=(
                "Class teacher, form tutor, pastoral staff or SLT",
                "Teaching assistants or ELSA-trained staff",
            ),
            review=("Record actions and review outcomes through the IEP/IBP",),
            strategies=_s(
                "Person-centred planning and One Page Profile",
                "Extra support from teacher, form tutor, pastoral staff or SLT",
                "Early contact with family or carers",
                "Adapted environment and seating plan",
                "SENCo/ALNCo check for learning difficulties",
                "IEP/IDP with parental consent",
                "Teaching assistant or ELSA support",
                "Safe space or sensory room",
                "Anger management",
                "Circle of Friends",
                "Dinosaur School",
                "Fun Friends",
                "Mindfulness",
                "Nurture group",
                "Social communication group",
                "School-based youth worker",
                "School-based counsellor",
                "Behaviour support team advice",
                "Extra staff training",
                "Inclusion Officer advice",
            ),
            escalation_note="Move up when recorded IEP/IBP reviews show the need persists.",
        ),
        TemplateStep(
            number=3,
            tier_label="Targeted with outside agencies",
            summary="School and outside agencies together, building on tiers 1 and 2.",
            who_leads="School with outside agencies and the Inclusion Officer",
            behaviour_descriptors=("Needs persist despite targeted support in school",),
            assessment=(
                "Observation and advice from the behaviour support team",
                "Risk assessment where needed",
            ),
            planning=(
                "A key adult runs an individual programme",
                "Agency reports shared and read by the right staff",
                "Agency advice written into IEPs, IBPs and PSPs",
                "Pastoral Support Plan",
            ),
            review=("Multi-agency meetings; actions recorded and reviewed through the IEP/IBP/PSP",),
            strategies=_s(
                "Key adult and individual programme",
                "Alternative or modified curriculum",
                "Behaviour support team referral",
                "Multi-agency referral (CAMHS, TAC, SALT)",
                "Educational psychologist",
                "Education social worker or youth justice",
                "TRAC (if eligible)",
                "Pastoral Support Plan",
                "Risk assessment",
                "Restorative return meeting after exclusion",
                "Flexible reintegration programme",
                "Inclusion Officer involvement",
            ),
            escalation_note="Move up when targets agreed with agencies are not met despite persistence.",
        ),
        TemplateStep(
            number=4,
            tier_label="Specialist",
            summary="Intensive, personalised and specialist provision.",
            who_leads="School, the LA and specialist services",
            behaviour_descriptors=("Complex needs not met despite multi-agency support",),
            assessment=("A series of reviewed IEPs, IDPs or PSPs", "Risk assessment"),
            planning=("Highly personalised, bespoke curriculum", "Intensive parent and carer involvement"),
            strategies=_s(
                "Positive handling plan",
                "Intensive parent/carer involvement",
                "Bespoke curriculum",
                "Intensive external agency input",
                "Managed move",
                "Dual registration with the PRU",
                "Alternative provision",
                "Inclusion Officer involvement",
                "Request for statutory assessment",
            ),
        ),
    ),
)


WAVES_APDR = TemplateFramework(
    key="waves-apdr",
    name="Waves 1-3 with assess, plan, do, review",
    description=(
        "Three waves of provision for social, emotional and mental health needs, each set out as "
        "an assess, plan, do, review cycle: quality-first teaching, SEN support, and provision "
        "under an EHC plan."
    ),
    steps=(
        TemplateStep(
            number=1,
            tier_label="Wave 1",
            summary="Universal provision: whole-school systems and quality-first teaching.",
            who_leads="Subject teachers and the year leader",
            behaviour_descriptors=(
                "Frequent low-level disruption, defiance or signs of disaffection",
                "Poor peer relationships, social isolation or aggression",
                "Poor attendance",
                "Behaviour not responding to the usual management strategies",
            ),
            assessment=(
                "Look for patterns of incidents in behaviour and attendance data; name target behaviours",
                "Structured conversation with parents about possible causes",
                "Pastoral interview with the pupil",
                "Check progress, attainment and any learning difficulty as a cause",
            ),
            planning=(
                "Use behaviour, attendance and attainment data to set suitable teaching groups",
                "Teachers adapt behaviour management to the pupil",
                "Agree targets with the pupil using restorative approaches",
                "Plan with the TA, head of faculty or year leader where useful",
            ),
            methods=(
                "Behaviour policy applied consistently: expectations, seating plans, routines",
                "Staged sanctions and interventions applied consistently",
                "Teachers model social skills and expectations explicitly",
            ),
            review=(
                "Fortnightly pastoral review of behaviour and attendance data",
                "Faculty checks behaviour data to judge what works",
                "Half-termly check of effort grades",
            ),
            strategies=_s(
                "Staged behaviour system",
                "Rewards and positive recognition points",
                "Individual target setting",
                "Restorative justice",
                "De-escalation and conflict resolution",
                "Classroom consequences (C1-C3)",
                "Anti-bullying policy",
                "Tutor-time programme",
                "Targeted enrichment",
                "Conduct card for unstructured times",
                "Pastoral checks and short lesson visits",
                "Pastoral pick-ups and daily debrief",
                "Year leader mentoring",
                "Character lessons",
            ),
            escalation_note="Refer to the SENCO when concerns persist or worsen.",
        ),
        TemplateStep(
            number=2,
            tier_label="Wave 2",
            summary="SEN support: targeted provision and extra school resources.",
            support_level="SEN support",
            who_leads="SENCO with pastoral leaders",
            behaviour_descriptors=(
                "Concerns persist or worsen despite other strategies",
                "May have a diagnosis (e.g. ADHD, ODD, anxiety) from CAMHS or a paediatrician",
            ),
            assessment=(
                "SENCO coordinates further assessment (e.g. SDQ, Conners, Boxall, resiliency scales)",
                "A student profile of protective and risk factors",
                "Consider a CAF to find unmet family needs and the right agencies",
                "Referral to the EP for specialist assessment; CAMHS consultation",
            ),
            planning=(
                "SEN access strategies feed teachers' planning",
                "The pupil takes part in planning",
                "Person-centred plans for complex needs, built on specialist advice",
                "Additional Support Plan with costed provision",
                "Consider self-harm and risk management plans",
                "SENCO explores the Local Offer with parents",
            ),
            methods=("More highly differentiated teaching and behaviour management",),
            review=(
                "Each department reviews behaviour data every half term",
                "Termly progress review with SLT, pastoral leaders and the SENCO",
                "Structured conversations with pupil and parents",
                "Multi-agency reviews (LAC, CIN, TAF)",
            ),
            strategies=_s(
                "SEN access strategies",
                "Barriers to Learning strategies",
                "Year leader keyworker mentoring",
                "Youth worker",
                "School nurse signposting",
                "In-class TA support",
                "EP-led staff training",
                "Enhanced Year 7 transition",
                "KS4 options guidance",
                "Short placement for personal development",
                "Managed move",
            ),
            escalation_note="Consider a request for statutory assessment at the support plan review.",
        ),
        TemplateStep(
            number=3,
            tier_label="Wave 3",
            summary="Personalised provision under an EHC plan.",
            support_level="EHC plan",
            who_leads="SENCO with a TA keyworker and outside agencies",
            behaviour_descriptors=(
                "Has an EHC plan for social, emotional and mental health",
                "SEN support did not bring adequate progress",
            ),
            assessment=("Statutory assessment",),
            planning=(
                "EHC plan turned into a person-centred plan with the pupil and parents",
                "Specialist advice written into the plan",
                "TA keyworker plans with teachers",
                "Multi-agency planning with health and social care",
            ),
            review=(
                "As at wave 2",
                "Annual person-centred review focused on transitions and aspirations",
            ),
            strategies=_s(
                "TA keyworker",
                "Time-limited small-group withdrawal",
                "Specialist programmes delivered by TAs",
                "KS4 options guidance",
                "Enhanced Year 7 transition",
            ),
        ),
    ),
)


TEMPLATES: dict[str, TemplateFramework] = {t.key: t for t in (NW_SIX_STEP, FOUR_TIER, WAVES_APDR)}
