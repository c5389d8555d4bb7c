import pytest

from graphcl.data import get_spec, list_datasets


@pytest.mark.parametrize('name,expected', [
    ('cora', 'Cora'),
    ('CORA', 'Cora'),
    ('citeseer', 'CiteSeer'),
    ('PubMed', 'PubMed'),
    ('photo', 'Amazon-Photo'),
    ('amazon-photo', 'Amazon-Photo'),
    ('Amazon_Photo', 'Amazon-Photo'),
    ('computers', 'Amazon-Computers'),
    ('cs', 'Coauthor-CS'),
    ('coauthor-cs', 'Coauthor-CS'),
    ('physics', 'Coauthor-Physics'),
    ('arxiv', 'ogbn-arxiv'),
    ('OGBN-ARXIV', 'ogbn-arxiv'),
    ('papers100m', 'ogbn-papers100M'),
    ('imdb-binary', 'IMDB-BINARY'),
    ('mutag', 'MUTAG'),
    ('ogbg_molbace', 'ogbg-molbace'),
    ('bbbp', 'ogbg-molbbbp'),
])
def test_aliases(name, expected):
    assert get_spec(name).name == expected


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match='Unknown dataset') as info:
        get_spec('coraa')
    assert 'Cora' in str(info.value) and 'ogbn-arxiv' in str(info.value)


def test_level_mismatch():
    with pytest.raises(ValueError, match='load_graph_dataset'):
        get_spec('MUTAG', level='node')
    with pytest.raises(ValueError, match='load_dataset'):
        get_spec('Cora', level='graph')


def test_list_datasets():
    names = list_datasets()
    assert {'Cora', 'CiteSeer', 'PubMed', 'Amazon-Photo', 'Coauthor-CS',
            'ogbn-arxiv', 'ogbn-products', 'ogbn-papers100M', 'MUTAG',
            'IMDB-BINARY', 'ogbg-molbace', 'ogbg-molbbbp'} <= set(names)
    assert all(isinstance(v, str) and v for v in names.values())
    assert 'MUTAG' not in list_datasets('node')
    assert set(list_datasets('node')) | set(list_datasets('graph')) == set(
        names)
    with pytest.raises(ValueError):
        list_datasets('edge')


def test_folders():
    assert get_spec('photo').folder == 'Amazon/Photo'
    assert get_spec('cs').raw_files == ('raw/ms_academic_cs.npz', )
    assert get_spec('mutag').folder == 'TU/MUTAG'
    assert get_spec('molbace').folder == 'ogb/ogbg_molbace'
    assert get_spec('cora').folder == 'Cora'
