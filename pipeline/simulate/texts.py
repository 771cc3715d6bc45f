"""Text templates (English and French) and the slot filler of the simulator.

Templates are ``str.format`` strings; slots are filled lazily from vocabularies of the brand's
domain (``retail``/``airline``) and language, so only the slots a template uses cost anything.

Examples
--------
>>> import random
>>> from pipeline.simulate.brands import DEMO_BRANDS, profile_for
>>> r = Renderer(DEMO_BRANDS[0], profile_for(DEMO_BRANDS[0]), random.Random(1))
>>> t = r.customer("en", 0)
>>> "@acme" in t or "Acme" in t or "acme" in t
True
"""

from __future__ import annotations

import random
import string

from pipeline.settings import BrandConfig
from pipeline.simulate.brands import BrandProfile

SENTIMENTS = ("negative", "neutral", "positive")

EMOJI = {
    "epos": ["", "", "😍", "🙌", "❤️", "👏", "😊", "🔥", "✨", "🥳"],
    "eneg": ["", "", "😡", "🤬", "😤", "🙄", "👎", "😩", "💀", "😠"],
    "eneu": ["", "", "", "🤔", "👀", "🙏"],
}

VOCAB: dict[str, dict[str, dict[str, list[str]]]] = {
    "retail": {
        "en": {
            "product": ["headphones", "air fryer", "sneakers", "phone case", "coffee machine",
                        "winter jacket", "vacuum", "smartwatch", "desk lamp", "backpack",
                        "gift card", "TV", "blender", "running shoes", "kettle"],
            "issue": ["my parcel is lost", "the tracking hasn't moved in a week",
                      "I was charged twice", "the app won't load my basket",
                      "the item arrived broken", "nobody answers the hotline",
                      "my refund never came", "they cancelled my order without telling me"],
            "city": ["London", "Manchester", "Leeds", "Bristol", "Dublin", "Glasgow", "Boston",
                     "Toronto"],
            "day": ["Monday", "Friday", "this weekend", "tomorrow", "today"],
        },
        "fr": {
            "product": ["casque audio", "friteuse", "baskets", "coque de téléphone",
                        "machine à café", "doudoune", "aspirateur", "montre connectée",
                        "lampe de bureau", "sac à dos", "carte cadeau", "télé", "blender",
                        "bouilloire"],
            "issue": ["mon colis est perdu", "le suivi ne bouge plus depuis une semaine",
                      "j'ai été débité deux fois", "l'appli plante au paiement",
                      "l'article est arrivé cassé", "personne ne répond au service client",
                      "toujours pas remboursé", "commande annulée sans prévenir"],
            "city": ["Paris", "Lyon", "Marseille", "Lille", "Bordeaux", "Nantes", "Toulouse",
                     "Montréal"],
            "day": ["lundi", "vendredi", "ce week-end", "demain", "aujourd'hui"],
        },
    },
    "airline": {
        "en": {
            "product": ["flight", "lounge", "upgrade", "app", "premium seat", "meal",
                        "loyalty card", "check-in"],
            "issue": ["my flight is delayed again", "they lost my luggage",
                      "overbooked and bumped off", "the app won't let me check in",
                      "no info at the gate", "my refund is still pending",
                      "they cancelled my flight last minute"],
            "city": ["Paris", "Oslo", "Montreal", "Nice", "Copenhagen", "Lyon", "Reykjavik",
                     "New York"],
            "day": ["Monday", "Friday", "this weekend", "tomorrow", "today"],
        },
        "fr": {
            "product": ["vol", "salon", "surclassement", "appli", "siège premium", "repas",
                        "carte de fidélité", "enregistrement"],
            "issue": ["encore un vol retardé", "ils ont perdu ma valise",
                      "surbooking, je reste au sol", "impossible de s'enregistrer sur l'appli",
                      "aucune info à la porte", "remboursement toujours en attente",
                      "vol annulé à la dernière minute"],
            "city": ["Paris", "Oslo", "Montréal", "Nice", "Copenhague", "Lyon", "Reykjavik",
                     "Brest"],
            "day": ["lundi", "vendredi", "ce week-end", "demain", "aujourd'hui"],
        },
    },
}

# Customer templates: CUSTOMER[domain][lang][sentiment index: 0 neg, 1 neu, 2 pos]
CUSTOMER: dict[str, dict[str, tuple[list[str], list[str], list[str]]]] = {
    "retail": {
        "en": (
            ["@{h} {issue}. order {order}, {days} days late {eneg}",
             "@{h} worst customer service ever, {mins} min on hold for nothing {eneg}",
             "so @{h} charged me twice for a {product}... great {eneg}",
             "@{h} the {product} I bought broke after {days} days. refund please",
             "never ordering from {name} again. {issue} {eneg}",
             "@{h} your app keeps crashing at checkout, fix it {eneg}",
             "{issue} and @{h} just sends copy-paste answers {eneg} {tag}",
             "@{h} {issue}. this is the third time this month",
             "honestly {name} used to be good. now {issue} {eneg}",
             "@{h} still waiting on order {order}. {issue}"],
            ["@{h} do you have the {product} in stock in {city}?",
             "@{h} what time does the {city} store close {day}?",
             "anyone tried the {product} from {name}? thinking about getting one {eneu}",
             "@{h} how do I change the delivery address for order {order}?",
             "is the {name} sale starting {day}? {url}",
             "@{h} can I return a {product} bought online in store?",
             "comparing the {product} at {name} and elsewhere {eneu}",
             "@{h} do you ship to {city}?",
             "{name} {product} reviews? {eneu}",
             "just saw the new {name} ad {url}"],
            ["@{h} got my {product} a day early, thank you! {epos}",
             "shoutout to the {city} {name} team, super helpful today {epos}",
             "loving my new {product} from {name} {epos} {tag}",
             "@{h} refund sorted in 10 minutes, impressed {epos}",
             "{name} never disappoints {epos}",
             "best {product} I've owned, thanks @{h} {epos}",
             "great deal on a {product} at {name} {day} {epos} {url}",
             "@{h} your support chat was quick and kind, thanks {epos}"],
        ),
        "fr": (
            ["@{h} {issue}. commande {order}, {days} jours de retard {eneg}",
             "@{h} service client catastrophique, {mins} min d'attente pour rien {eneg}",
             "@{h} débité deux fois pour un(e) {product}, bravo {eneg}",
             "@{h} mon {product} est cassé au bout de {days} jours, je veux un remboursement",
             "plus jamais de commande chez {name}. {issue} {eneg}",
             "@{h} votre appli plante encore au paiement {eneg}",
             "{issue} et @{h} répond avec des messages automatiques {eneg} {tag}",
             "@{h} {issue}. troisième fois ce mois-ci",
             "{name} c'était bien avant. maintenant {issue} {eneg}"],
            ["@{h} vous avez le {product} en stock à {city} ?",
             "@{h} le magasin de {city} ferme à quelle heure {day} ?",
             "quelqu'un a testé le {product} de chez {name} ? {eneu}",
             "@{h} comment changer l'adresse de livraison de la commande {order} ?",
             "les soldes {name} commencent {day} ? {url}",
             "@{h} on peut retourner en magasin un {product} acheté en ligne ?",
             "@{h} vous livrez à {city} ?",
             "avis sur le {product} {name} ? {eneu}",
             "vu la nouvelle pub {name} {url}"],
            ["@{h} reçu mon {product} avec un jour d'avance, merci ! {epos}",
             "merci à l'équipe {name} de {city}, super accueil {epos}",
             "trop contente de mon nouveau {product} {name} {epos} {tag}",
             "@{h} remboursement réglé en 10 minutes, chapeau {epos}",
             "{name} ne déçoit jamais {epos}",
             "meilleur {product} que j'ai eu, merci @{h} {epos}",
             "super promo sur un {product} chez {name} {day} {epos} {url}"],
        ),
    },
    "airline": {
        "en": (
            ["@{h} {issue}. flight {flight} to {city} {eneg}",
             "@{h} {mins} minutes on the tarmac and zero information {eneg}",
             "@{h} {issue}, {days} days and still nothing {eneg}",
             "never flying {name} again. {issue} {eneg} {tag}",
             "@{h} why is {flight} delayed AGAIN? {eneg}",
             "stuck in {city} because {issue}. thanks @{h} {eneg}",
             "@{h} your hotline hangs up after {mins} minutes {eneg}"],
            ["@{h} is {flight} to {city} on time {day}?",
             "@{h} what's the baggage allowance on {flight}?",
             "@{h} can I add a bag after check-in?",
             "flying {name} to {city} {day}, any tips? {eneu}",
             "@{h} does the {product} include wifi?",
             "{name} or the train to {city}? {eneu}",
             "@{h} how do I change the name on my booking?"],
            ["@{h} smooth flight to {city}, lovely crew {epos}",
             "landed early in {city}, thanks {name} {epos} {tag}",
             "@{h} the {product} was worth it {epos}",
             "shoutout to the {name} crew on {flight} {epos}",
             "@{h} thanks for sorting my rebooking so fast {epos}",
             "first time with {name} and honestly great {epos} {url}"],
        ),
        "fr": (
            ["@{h} {issue}. vol {flight} pour {city} {eneg}",
             "@{h} {mins} minutes sur le tarmac sans aucune info {eneg}",
             "@{h} {issue}, {days} jours et toujours rien {eneg}",
             "plus jamais {name}. {issue} {eneg} {tag}",
             "@{h} pourquoi le {flight} est ENCORE en retard ? {eneg}",
             "bloqué à {city} parce que {issue}. merci @{h} {eneg}",
             "@{h} votre hotline raccroche au bout de {mins} minutes {eneg}"],
            ["@{h} le vol {flight} pour {city} est à l'heure {day} ?",
             "@{h} quelle franchise bagage sur le {flight} ?",
             "@{h} on peut ajouter un bagage après l'enregistrement ?",
             "je pars avec {name} à {city} {day}, des conseils ? {eneu}",
             "@{h} le {product} comprend le wifi ?",
             "{name} ou le train pour {city} ? {eneu}",
             "@{h} comment changer le nom sur ma réservation ?"],
            ["@{h} vol parfait pour {city}, équipage adorable {epos}",
             "arrivé en avance à {city}, merci {name} {epos} {tag}",
             "@{h} le {product} valait le coup {epos}",
             "bravo à l'équipage {name} du {flight} {epos}",
             "@{h} merci pour le changement de vol si rapide {epos}",
             "première fois avec {name} et franchement top {epos} {url}"],
        ),
    },
}

BRAND_REPLY = {
    "en": ["@{user} Hi {first}, sorry about this. Could you DM us your reference so we can look "
           "into it? ^{sig}",
           "@{user} Thanks for reaching out {first}! We've passed this on to the team. ^{sig}",
           "@{user} We're sorry to hear that. Please send us a DM with your details and we'll "
           "sort it out. ^{sig}",
           "@{user} Thanks {first}, glad to hear it! ^{sig}",
           "@{user} Hi {first}, you can find everything here: {link} ^{sig}"],
    "fr": ["@{user} Bonjour {first}, désolés pour ce désagrément. Pouvez-vous nous envoyer votre "
           "référence en DM ? ^{sig}",
           "@{user} Merci {first}, nous transmettons à l'équipe concernée. ^{sig}",
           "@{user} Nous sommes navrés. Écrivez-nous en message privé et nous regardons ça. "
           "^{sig}",
           "@{user} Merci {first}, ravis que ça vous plaise ! ^{sig}",
           "@{user} Bonjour {first}, toutes les infos ici : {link} ^{sig}"],
}

OWN_POST = {
    "en": ["New this week: the {product} you asked for is here {epos} {link}",
           "Weekend plans? Our {product} deals start {day} {link}",
           "Your feedback shapes what we do. Tell us what you think of the {product} {link}",
           "Tips: how to get the most out of your {product} {link}",
           "Thanks for being with us! {epos} {link}",
           "Service update: our support team is here 8am–10pm, DM us anytime {link}"],
    "fr": ["Nouveau cette semaine : le {product} que vous attendiez est là {epos} {link}",
           "Des projets ce week-end ? Nos offres {product} commencent {day} {link}",
           "Vos avis comptent. Dites-nous ce que vous pensez du {product} {link}",
           "Nos conseils pour profiter de votre {product} {link}",
           "Merci d'être là ! {epos} {link}",
           "Info service : notre équipe vous répond de 8h à 22h en DM {link}"],
}

FIRST = {
    "en": ["james", "emma", "oliver", "amelia", "jack", "olivia", "harry", "isla", "noah", "ava",
           "leo", "mia", "liam", "grace", "lucas", "chloe", "ethan", "ella", "sam", "zoe", "dan",
           "kate", "mike", "lisa", "tom", "sarah", "ben", "anna", "josh", "megan"],
    "fr": ["lucas", "emma", "hugo", "jade", "louis", "louise", "gabriel", "alice", "arthur",
           "chloe", "jules", "lea", "adam", "manon", "raphael", "camille", "nathan", "sarah",
           "theo", "ines", "maxime", "julie", "antoine", "marie", "thomas", "pauline", "nicolas",
           "claire", "quentin", "margaux"],
}
LAST = {
    "en": ["smith", "jones", "taylor", "brown", "wilson", "evans", "thomas", "johnson", "roberts",
           "walker", "wright", "robinson", "thompson", "white", "hughes", "edwards", "green",
           "hall", "wood", "harris", "clarke", "lewis", "young", "king", "baker"],
    "fr": ["martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand",
           "leroy", "moreau", "simon", "laurent", "lefebvre", "michel", "garcia", "david",
           "bertrand", "roux", "vincent", "fournier", "morel", "girard", "andre", "mercier",
           "blanc"],
}
HANDLE_BITS = ["", "", "", "_", "x", "the", "real", "its", "official", "pro", "fan", "music",
               "fr", "uk", "pdx", "dev", "photo", "run"]


_FMT = string.Formatter()


def slots_of(template: str) -> set[str]:
    """The slot names of a template (for tests and plug-in authors)."""
    return {f for _, f, _, _ in _FMT.parse(template) if f}


class _Slots(dict):
    """A ``format_map`` mapping that draws missing slots on demand (cheap: only used slots)."""

    __slots__ = ("_r", "_vocab")

    def __init__(self, fixed: dict[str, str], vocab: dict[str, list[str]], r: random.Random):
        super().__init__(fixed)
        self._r = r
        self._vocab = vocab

    def __missing__(self, key: str) -> str:
        r = self._r
        pool = self._vocab.get(key)
        if pool is not None:
            return pool[int(r.random() * len(pool))]
        if key == "order":
            return f"#{r.randrange(1_000_000, 9_999_999)}"
        if key == "days":
            return str(r.choice((2, 3, 4, 5, 6, 8, 10, 12, 15, 21)))
        if key == "mins":
            return str(r.choice((20, 30, 40, 45, 55, 60, 90, 120)))
        if key == "flight":
            return f"{self['code']}{r.randrange(100, 1999)}"
        if key == "url":
            return "https://t.co/" + "".join(r.choices(_ALNUM, k=10))
        return ""


_ALNUM = string.ascii_letters + string.digits


class Renderer:
    """Fills templates for one brand.

    Parameters
    ----------
    brand, profile
        Who is talked about, and in which vocabulary (``profile.domain``).
    r
        The random source (deterministic for a seed).
    """

    def __init__(self, brand: BrandConfig, profile: BrandProfile, r: random.Random):
        self.brand = brand
        self.r = r
        domain = profile.domain if profile.domain in VOCAB else "retail"
        self.domain = domain
        name = (brand.display_names or [brand.name.capitalize()])[0]
        handle = (brand.handles or [brand.name])[0]
        self.fixed = {
            "h": handle,
            "name": name,
            "code": brand.name[:2].upper(),
        }
        self.tags = [f"#{brand.name}", f"#{name.replace(' ', '')}", "", "", ""]
        self.vocab: dict[str, dict[str, list[str]]] = {}
        for lang in ("en", "fr"):
            v = dict(VOCAB[domain][lang])
            v.update(EMOJI)
            v["tag"] = self.tags
            self.vocab[lang] = v

    def fill(self, template: str, lang: str, **extra: str) -> str:
        """Render ``template`` in ``lang``; ``extra`` fixes some slots."""
        slots = _Slots(self.fixed, self.vocab["fr" if lang == "fr" else "en"], self.r)
        if extra:
            slots.update(extra)
        return " ".join(template.format_map(slots).split())

    def customer(self, lang: str, sentiment: int) -> str:
        """A customer mention of sentiment index ``sentiment`` (0 neg, 1 neu, 2 pos)."""
        pool = CUSTOMER[self.domain]["fr" if lang == "fr" else "en"][sentiment]
        return self.fill(pool[int(self.r.random() * len(pool))], lang)

    def pick(self, pool: list[str], lang: str, **extra: str) -> str:
        """Render a random template of ``pool``."""
        return self.fill(pool[int(self.r.random() * len(pool))], lang, **extra)
